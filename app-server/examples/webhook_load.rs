//! Load test of the Shopify webhook endpoint: starts the server in-process on port 0 (SQLite
//! file or a fresh PostgreSQL database), then fires N distinct pre-signed `customers/update`
//! deliveries at concurrency C over HTTP with reqwest and reports requests/s and latency
//! percentiles. Each request is verified (HMAC over the raw body), stored, and acknowledged;
//! processing runs in the background as in production.
//!
//! ```text
//! cargo run --release -p app-server --example webhook_load -- [sqlite|postgres] [N] [C] [body_bytes]
//! ```
//!
//! PostgreSQL: `LEAKGUARD_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! names a server where a scratch database is created and dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app_server::config::Settings;
use app_server::startup::Application;
use sea_orm::{ConnectionTrait, Database};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret-0123456789abcdef";
const SHOP: &str = "bench-shop.myshopify.com";

fn body_for(index: usize, body_bytes: usize) -> String {
    let mut base = serde_json::json!({
        "id": 706_405_506_930_370_000u64 + index as u64,
        "email": format!("customer{index}@example.com"),
        "updated_at": "2026-11-28T10:00:00-05:00",
        "state": "enabled",
        "tags": "vip",
        "note": "",
    });
    let skeleton = base.to_string().len();
    base["note"] = serde_json::json!("x".repeat(body_bytes.saturating_sub(skeleton)));
    base.to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    app_server::install_crypto_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = args
        .first()
        .map(String::as_str)
        .unwrap_or("sqlite")
        .to_owned();
    let n: usize = args.get(1).map_or(Ok(5_000), |v| v.parse())?;
    let concurrency: usize = args.get(2).map_or(Ok(32), |v| v.parse())?;
    let body_bytes: usize = args.get(3).map_or(Ok(1024), |v| v.parse())?;

    let dir = tempfile::tempdir()?;
    let admin_url = std::env::var("LEAKGUARD_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let pg_name = format!("lg_bench_{}", uuid::Uuid::new_v4().simple());
    let database_url = match backend.as_str() {
        "sqlite" => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
        "postgres" => {
            let admin = Database::connect(&admin_url).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {pg_name}"))
                .await?;
            let (head, _) = admin_url
                .rsplit_once('/')
                .expect("database URL with a path");
            format!("{head}/{pg_name}")
        }
        other => anyhow::bail!("backend must be sqlite or postgres, not {other}"),
    };
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(database_url.into()),
        database_max_connections: 16,
        log_level: "error".into(),
        ..Settings::default()
    };
    settings.jobs.enabled = false;
    settings.shopify.api_key = Some("bench-client-id".into());
    settings.shopify.api_secret = Some(SECRET.to_owned().into());
    let app = Application::build(settings).await?;
    let port = app.port();
    let state = app.state();
    app_server::tenants::create_tenant(
        &state.db,
        &state.keyring,
        app_server::tenants::PlatformAddress::parse("shopify", SHOP)?,
        None,
        &leakguard_domain::audit::Actor::new("operator", "bench"),
    )
    .await?;
    tokio::spawn(app.run_until_stopped());

    let url = format!("http://127.0.0.1:{port}/shopify/webhooks");
    let deliveries: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            let body = body_for(i, body_bytes);
            let hmac = app_server::shopify::hmac::sign_webhook(SECRET.as_bytes(), body.as_bytes());
            (format!("bench-{i}"), hmac, body)
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let queue = std::sync::Arc::new(std::sync::Mutex::new(deliveries.into_iter()));
    let started = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let queue = queue.clone();
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue.lock().unwrap().next();
                let Some((id, hmac, body)) = next else { break };
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-Shopify-Topic", "customers/update")
                    .header("X-Shopify-Hmac-Sha256", hmac)
                    .header("X-Shopify-Shop-Domain", SHOP)
                    .header("X-Shopify-API-Version", "2026-07")
                    .header("X-Shopify-Webhook-Id", id)
                    .body(body)
                    .send()
                    .await
                    .expect("request failed");
                assert_eq!(res.status(), 200, "delivery refused");
                latencies.push(t.elapsed());
            }
            latencies
        })
    });
    let mut latencies: Vec<Duration> = Vec::with_capacity(n);
    for w in futures::future::join_all(workers).await {
        latencies.extend(w?);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let stored = state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            state.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM webhook_deliveries",
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({
            "backend": backend,
            "n": n,
            "concurrency": concurrency,
            "body_bytes": body_bytes,
            "stored": stored,
            "seconds": elapsed.as_secs_f64(),
            "requests_per_sec": (n as f64 / elapsed.as_secs_f64()).round(),
            "p50_us": percentile(&latencies, 50.0).as_micros(),
            "p99_us": percentile(&latencies, 99.0).as_micros(),
            "max_us": latencies.last().map(Duration::as_micros),
        })
    );
    assert_eq!(stored as usize, n, "every delivery must be stored once");
    if backend == "postgres" {
        drop(state);
        if let Ok(admin) = Database::connect(&admin_url).await {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"))
                .await;
        }
    }
    Ok(())
}
