//! Benchmark: enforce the default retention policy over N stored payloads (default 1,000,000)
//! on PostgreSQL, reporting rows/s and the longest batch transaction (the longest any row lock
//! is held). Run: `scripts/bench-retention [N]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app_server::retention::{Options, enforce_own_store};
use app_server::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;
use leakguard_domain::retention::DAY_MS;
use sea_orm::{ConnectionTrait, Database};
use std::time::Instant;

#[tokio::main]
async fn main() {
    app_server::install_crypto_provider();
    let n: i64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1_000_000);
    let admin_url = std::env::var("LEAKGUARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("lg_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = app_server::config::Settings {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(url.into()),
        ..Default::default()
    };
    settings.jobs.enabled = false;
    let state = app_server::state::AppState::init(settings).await.unwrap();
    let created = app_server::tenants::create_tenant(
        &state.db,
        &state.keyring,
        app_server::tenants::PlatformAddress::parse("shopify", "bench.myshopify.com").unwrap(),
        None,
        &leakguard_domain::audit::Actor::new("operator", "bench"),
    )
    .await
    .unwrap();
    let now = app_server::db::now_ms();
    let seeded = Instant::now();
    // 90 % past the 30-day window, 10 % inside it; a realistic 1.2 KB order payload each.
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, tenant_id, source, delivery_id, topic, shop_domain, received_at, status, attempts, next_attempt_at, payload) \
         SELECT gen_random_uuid(), '{tenant}', 'shopify', 'bench-' || g, 'orders/create', 'bench.myshopify.com', \
                CASE WHEN g % 10 = 0 THEN {fresh} ELSE {old} - g END, 'processed', 1, 0, convert_to(repeat('x', 1200), 'UTF8') \
         FROM generate_series(1, {n}) AS g",
        tenant = created.tenant.id,
        fresh = now - 5 * DAY_MS,
        old = now - 40 * DAY_MS,
    );
    state.db.execute_unprepared(&sql).await.unwrap();
    state
        .db
        .execute_unprepared("ANALYZE webhook_deliveries")
        .await
        .unwrap();
    eprintln!("seeded {n} rows in {:.1} s", seeded.elapsed().as_secs_f64());

    let ctx = TenantCtx::system(TenantId(created.tenant.id), "bench");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let options = Options {
        now_ms: now,
        dry_run: false,
        batch_size: 1000,
    };
    let report = enforce_own_store(&state.db, &ctx, options, &|_| Ok(()))
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let r = &report[0];
    println!(
        "{}",
        serde_json::json!({
            "backend": "postgresql",
            "rows_total": n,
            "rows_affected": r.rows_affected,
            "seconds": secs,
            "rows_per_second": r.rows_affected as f64 / secs,
            "batches": r.batches,
            "batch_size": 1000,
            "max_batch_ms": r.max_batch_ms,
            "server_cpu_seconds": cpu_seconds() - cpu_before,
        })
    );
    drop(state);
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process from /proc (Linux), in seconds.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}
