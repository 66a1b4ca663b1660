//! Job leases: two server instances on one database never run a job at the same time, and a
//! crashed owner's lease is taken over once it expires. The clock is a parameter, so nothing
//! here waits for it.

use app_server::jobs::{LeasedRun, claim_slot, renew, run_leased, try_acquire};
use app_server::state::AppState;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::helpers::{Backend, TestDb, postgres_available_or_fail, test_settings};

async fn lease_semantics(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let state = AppState::init(test_settings(dir.path(), &db))
        .await
        .unwrap();
    let db = &state.db;
    let t0 = 1_000_000;
    assert!(try_acquire(db, "job", "a", t0, 1_000).await.unwrap());
    assert!(
        !try_acquire(db, "job", "b", t0 + 500, 1_000).await.unwrap(),
        "b must wait while a's lease lives"
    );
    assert!(
        try_acquire(db, "job", "a", t0 + 500, 1_000).await.unwrap(),
        "the owner may extend"
    );
    // a dies: no renewal. At t0 + 1500 its lease (renewed at t0 + 500) has expired.
    assert!(
        !try_acquire(db, "job", "b", t0 + 1_499, 1_000)
            .await
            .unwrap()
    );
    assert!(
        try_acquire(db, "job", "b", t0 + 1_500, 1_000)
            .await
            .unwrap(),
        "b takes over the expired lease"
    );
    assert!(
        !renew(db, "job", "a", t0 + 1_600, 1_000).await.unwrap(),
        "a learns it lost the lease"
    );
    // Slots: each is claimed once.
    assert!(claim_slot(db, "job", 60_000, "a").await.unwrap());
    assert!(!claim_slot(db, "job", 60_000, "b").await.unwrap());
    assert!(claim_slot(db, "job", 120_000, "b").await.unwrap());
}

crate::on_both_backends!(lease_semantics);

/// Two instances (separate pools, separate owner ids) on one PostgreSQL race for the same job
/// many times; the job records how many run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_never_run_a_job_at_once() {
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
    assert_ne!(a.instance_id, b.instance_id);

    let running = Arc::new(AtomicI64::new(0));
    let max_seen = Arc::new(AtomicI64::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for state in [a.clone(), b.clone()] {
        for _ in 0..3 {
            let (state, running, max_seen, ran, busy) = (
                state.clone(),
                running.clone(),
                max_seen.clone(),
                ran.clone(),
                busy.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for _ in 0..15 {
                    let out = run_leased(
                        &state.db,
                        "exclusive",
                        &state.instance_id,
                        Duration::from_secs(30),
                        None,
                        |_stop| {
                            let running = running.clone();
                            let max_seen = max_seen.clone();
                            async move {
                                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                                max_seen.fetch_max(now, Ordering::SeqCst);
                                // Hold the lease across real work (other tasks keep trying meanwhile).
                                tokio::task::yield_now().await;
                                tokio::time::sleep(Duration::from_millis(5)).await;
                                running.fetch_sub(1, Ordering::SeqCst);
                            }
                        },
                    )
                    .await
                    .unwrap();
                    match out {
                        LeasedRun::Ran(()) => ran.fetch_add(1, Ordering::SeqCst),
                        LeasedRun::Busy => busy.fetch_add(1, Ordering::SeqCst),
                    };
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        max_seen.load(Ordering::SeqCst),
        1,
        "a job ran twice at once"
    );
    assert!(ran.load(Ordering::SeqCst) > 0);
    assert!(
        busy.load(Ordering::SeqCst) > 0,
        "the race never happened; the test proves nothing"
    );
    // Takeover after the owner dies: a takes the lease and never renews or releases it.
    let now = app_server::db::now_ms();
    assert!(
        try_acquire(&a.db, "takeover", &a.instance_id, now, 30_000)
            .await
            .unwrap()
    );
    drop(a);
    assert!(
        !try_acquire(&b.db, "takeover", &b.instance_id, now + 29_999, 30_000)
            .await
            .unwrap()
    );
    assert!(
        try_acquire(&b.db, "takeover", &b.instance_id, now + 30_000, 30_000)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_checkpoint_job_signs_moved_heads_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Sqlite, dir.path()).await;
    let state = AppState::init(test_settings(dir.path(), &db))
        .await
        .unwrap();
    // The key registration at start was signed at once; then the platform chain moves.
    assert_eq!(
        app_server::audit_chain::checkpoint_job(&state.db, &state.checkpointer)
            .await
            .unwrap(),
        0
    );
    let txn = app_server::db::begin_write(&state.db).await.unwrap();
    app_server::audit_chain::append(
        &txn,
        app_server::audit_chain::PLATFORM_CHAIN,
        &leakguard_domain::audit::Actor::system("test"),
        "test.moved",
        leakguard_domain::audit::Subject::new("test", "1"),
        serde_json::json!({}),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(
        app_server::audit_chain::checkpoint_job(&state.db, &state.checkpointer)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app_server::audit_chain::checkpoint_job(&state.db, &state.checkpointer)
            .await
            .unwrap(),
        0
    );
    let report = app_server::audit_chain::verify_chain(
        &state.db,
        app_server::audit_chain::PLATFORM_CHAIN,
        &state.checkpointer,
    )
    .await
    .unwrap();
    assert_eq!(report.result.unwrap().checkpoints, 2);
}
