//! Retention on LeakGuard's own store, job functions called directly with `now` passed in:
//! rows past the window cleared, rows inside untouched, a second run a no-op, a crash between
//! batches resumed without double counting, dry runs changing nothing, two servers one run.

use app_server::db::entities::webhook_deliveries;
use app_server::retention::{self, JobOutcome, Options};
use app_server::state::AppState;
use app_server::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;
use leakguard_domain::retention::{DAY_MS, IdChain};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use std::sync::Arc;
use uuid::Uuid;

use crate::helpers::{
    Backend, TestApp, TestDb, postgres_available_or_fail, spawn_app, test_settings,
};

const NOW: i64 = 1_800_000_000_000;

/// Seeds `old` deliveries 40 days old and `fresh` ones 5 days old; returns the old ids sorted.
async fn seed(
    db: &sea_orm::DatabaseConnection,
    tenant: Uuid,
    old: usize,
    fresh: usize,
) -> Vec<Uuid> {
    seed_at(db, tenant, old, fresh, NOW).await
}

async fn seed_at(
    db: &sea_orm::DatabaseConnection,
    tenant: Uuid,
    old: usize,
    fresh: usize,
    now: i64,
) -> Vec<Uuid> {
    let mut old_ids = Vec::new();
    for i in 0..old + fresh {
        let id = Uuid::now_v7();
        let received_at = if i < old {
            now - 40 * DAY_MS + i as i64
        } else {
            now - 5 * DAY_MS
        };
        if i < old {
            old_ids.push(id);
        }
        webhook_deliveries::Entity::insert(webhook_deliveries::ActiveModel {
            id: Set(id),
            tenant_id: Set(Some(tenant)),
            source: Set(app_server::db::entities::webhook_deliveries::Source::Shopify),
            delivery_id: Set(format!("d-{id}")),
            topic: Set("orders/create".into()),
            shop_domain: Set("x.myshopify.com".into()),
            received_at: Set(received_at),
            status: Set(app_server::db::entities::webhook_deliveries::Status::Processed),
            attempts: Set(1),
            next_attempt_at: Set(0),
            last_error: Set(None),
            payload: Set(Some(br#"{"id":1,"email":"a@example.com"}"#.to_vec())),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    old_ids.sort();
    old_ids
}

async fn with_payload(db: &sea_orm::DatabaseConnection, tenant: Uuid) -> u64 {
    webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::TenantId.eq(tenant))
        .filter(webhook_deliveries::Column::Payload.is_not_null())
        .count(db)
        .await
        .unwrap()
}

fn expected_hash(ids: &[Uuid]) -> String {
    let mut chain = IdChain::default();
    for id in ids {
        chain.push(&id.to_string());
    }
    chain.hex().to_owned()
}

fn options(batch: u64) -> Options {
    Options {
        now_ms: NOW,
        dry_run: false,
        batch_size: batch,
    }
}

async fn tenant_ctx(app: &TestApp, shop: &str) -> (crate::helpers::TestTenant, TenantCtx) {
    let t = app.create_tenant(shop).await;
    let ctx = TenantCtx::system(TenantId(t.id), "test");
    (t, ctx)
}

async fn past_rows_are_cleared_once_and_fresh_rows_stay(backend: Backend) {
    let app = spawn_app(backend).await;
    let (t, ctx) = tenant_ctx(&app, "retention-a.myshopify.com").await;
    let (_, other_ctx) = tenant_ctx(&app, "retention-b.myshopify.com").await;
    let old = seed(&app.state.db, t.id, 7, 3).await;
    seed(&app.state.db, other_ctx.tenant_id().as_uuid(), 4, 0).await;

    let dry = retention::enforce_own_store(
        &app.state.db,
        &ctx,
        Options {
            dry_run: true,
            ..options(3)
        },
        &|_| Ok(()),
    )
    .await
    .unwrap();
    assert_eq!(dry[0].status, "dry_run");
    assert_eq!(dry[0].rows_affected, 7);
    assert_eq!(dry[0].by_age.get("30-90d"), Some(&7));
    assert_eq!(dry[0].ids_sha256, expected_hash(&old));
    assert_eq!(
        with_payload(&app.state.db, t.id).await,
        10,
        "a dry run changes nothing"
    );

    let audit_before = app.audit_count(t.id).await;
    let report = retention::enforce_own_store(&app.state.db, &ctx, options(3), &|_| Ok(()))
        .await
        .unwrap();
    assert_eq!(report[0].status, "complete");
    assert_eq!(report[0].rows_affected, 7);
    assert_eq!(report[0].batches, 3);
    assert_eq!(report[0].ids_sha256, expected_hash(&old));
    assert_eq!(
        with_payload(&app.state.db, t.id).await,
        3,
        "only fresh payloads remain"
    );
    assert_eq!(
        with_payload(&app.state.db, other_ctx.tenant_id().as_uuid()).await,
        4,
        "another tenant is untouched"
    );
    assert_eq!(
        app.audit_count(t.id).await,
        audit_before + 2,
        "run started and completed are in the chain"
    );
    let verified = app.cli(&["audit", "verify", "--tenant", &t.id.to_string()]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );

    let again = retention::enforce_own_store(&app.state.db, &ctx, options(3), &|_| Ok(()))
        .await
        .unwrap();
    assert_eq!(again[0].status, "nothing_to_do");
    assert_eq!(
        app.audit_count(t.id).await,
        audit_before + 2,
        "a no-op run writes nothing"
    );
}

async fn a_crash_between_batches_resumes_without_double_counting(backend: Backend) {
    let app = spawn_app(backend).await;
    let (t, ctx) = tenant_ctx(&app, "retention-crash.myshopify.com").await;
    let old = seed(&app.state.db, t.id, 9, 2).await;
    let crash = |batch: i32| {
        if batch == 2 {
            Err("injected crash".to_owned())
        } else {
            Ok(())
        }
    };
    let err = retention::enforce_own_store(&app.state.db, &ctx, options(2), &crash)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("injected crash"));
    assert_eq!(
        with_payload(&app.state.db, t.id).await,
        7,
        "two batches of two committed"
    );
    let runs = retention::list_runs(&app.state.db, &ctx).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "running");
    assert_eq!(runs[0].rows_affected, 4);
    assert_eq!(
        runs[0].error.as_deref(),
        Some("injected crash"),
        "the failure is surfaced"
    );

    // A later run must not move the cut-off: pass a much later now; the resumed run keeps its own.
    let later = Options {
        now_ms: NOW + 365 * DAY_MS,
        ..options(2)
    };
    let report = retention::enforce_own_store(&app.state.db, &ctx, later, &|_| Ok(()))
        .await
        .unwrap();
    assert!(report[0].resumed);
    assert_eq!(report[0].rows_affected, 9, "each row counted once");
    assert_eq!(report[0].ids_sha256, expected_hash(&old));
    assert_eq!(with_payload(&app.state.db, t.id).await, 2);
    let runs = retention::list_runs(&app.state.db, &ctx).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "complete");
}

async fn policy_api_validates_and_versions(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("retention-api.myshopify.com").await;
    let policy: serde_json::Value = app
        .get("/api/v1/retention/policy", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["version"], 1);
    let before = app.audit_count(t.id).await;

    let mut bad = policy.clone();
    bad["classes"][0]["anchor"] = "token_expiry".into();
    let res = app
        .client
        .put(app.url("/api/v1/retention/policy"))
        .bearer_auth(&t.key)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(app.audit_count(t.id).await, before);

    let mut good = policy.clone();
    good["classes"][1]["max_age_days"] = 14.into();
    let res = app
        .client
        .put(app.url("/api/v1/retention/policy"))
        .bearer_auth(&t.key)
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let saved: serde_json::Value = app
        .get("/api/v1/retention/policy", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["classes"][1]["max_age_days"], 14);
    assert_eq!(app.audit_count(t.id).await, before + 1);

    seed_at(&app.state.db, t.id, 2, 1, app_server::db::now_ms()).await;
    let inv: serde_json::Value = app
        .get("/api/v1/retention/inventory", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inv[0]["rows"], 3);
    assert_eq!(inv[0]["overdue"], 2);
    let res = app
        .client
        .post(app.url("/api/v1/retention/runs?dry_run=true"))
        .bearer_auth(&t.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.url("/api/v1/retention/runs"))
        .bearer_auth(&t.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let runs: Vec<serde_json::Value> = app
        .get("/api/v1/retention/runs", &t.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    let one = app
        .get(
            &format!("/api/v1/retention/runs/{}", runs[0]["id"].as_str().unwrap()),
            &t.key,
        )
        .await;
    assert_eq!(one.status(), 200);
}

crate::on_both_backends!(
    past_rows_are_cleared_once_and_fresh_rows_stay,
    a_crash_between_batches_resumes_without_double_counting,
    policy_api_validates_and_versions,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_run_the_daily_job_once() {
    if !postgres_available_or_fail().await {
        return;
    }
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Postgres, dir_a.path()).await;
    let a = Arc::new(
        AppState::init(test_settings(dir_a.path(), &db))
            .await
            .unwrap(),
    );
    let b = Arc::new(
        AppState::init(test_settings(dir_b.path(), &db))
            .await
            .unwrap(),
    );
    let created = app_server::tenants::create_tenant(
        &a.db,
        &a.keyring,
        app_server::tenants::PlatformAddress::parse("shopify", "twice.myshopify.com").unwrap(),
        None,
        &leakguard_domain::audit::Actor::new("operator", "test"),
    )
    .await
    .unwrap();
    seed(&a.db, created.tenant.id, 25, 0).await;
    let slot = retention::daily_slot(NOW);
    let (ra, rb) = tokio::join!(
        retention::run_job(&a.db, &a.instance_id, slot, NOW),
        retention::run_job(&b.db, &b.instance_id, slot, NOW),
    );
    let outcomes = [ra.unwrap(), rb.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, JobOutcome::Ran { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&JobOutcome::AlreadyRan));
    let runs = app_server::db::entities::retention_runs::Entity::find()
        .order_by_asc(app_server::db::entities::retention_runs::Column::StartedAt)
        .all(&a.db)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].rows_affected, 25);
    // The same slot again (a restart later that day) does not run.
    assert_eq!(
        retention::run_job(&b.db, &b.instance_id, slot, NOW)
            .await
            .unwrap(),
        JobOutcome::AlreadyRan
    );
}
