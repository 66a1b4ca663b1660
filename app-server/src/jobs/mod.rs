//! Background jobs: an in-process cron scheduler (tokio-cron-scheduler, UTC) in every replica,
//! with each run taken under a database lease so that N replicas never run one job at once.
//!
//! A lease has an owner and an expiry; the owner renews it while the job runs, and a crashed
//! owner's lease simply expires. Job functions are plain async functions that tests call
//! directly; the clock is a parameter of the lease functions, so tests never wait for it.
//! [`registry`] runs the jobs; [`prune`] is the one job that serves this module's neighbours
//! (expired credentials) rather than a single service.

pub mod prune;
pub mod registry;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use crate::db::entities::{job_leases, job_runs};
use crate::db::now_ms;

/// Tries to take (or keep) the lease of `job` for `owner` until `now_ms + ttl_ms`.
pub async fn try_acquire(
    db: &DatabaseConnection,
    job: &str,
    owner: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool, DbErr> {
    let inserted = job_leases::Entity::insert(job_leases::ActiveModel {
        job_name: Set(job.to_owned()),
        owner: Set(owner.to_owned()),
        acquired_at: Set(now_ms),
        expires_at: Set(now_ms + ttl_ms),
    })
    .on_conflict(
        OnConflict::column(job_leases::Column::JobName)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 1 {
        return Ok(true);
    }
    // Take over an expired lease, or extend our own. On PostgreSQL the row lock makes a
    // concurrent taker re-check the condition after we commit, so only one wins.
    let updated = job_leases::Entity::update_many()
        .col_expr(job_leases::Column::Owner, Expr::value(owner))
        .col_expr(job_leases::Column::AcquiredAt, Expr::value(now_ms))
        .col_expr(job_leases::Column::ExpiresAt, Expr::value(now_ms + ttl_ms))
        .filter(job_leases::Column::JobName.eq(job))
        .filter(
            job_leases::Column::Owner
                .eq(owner)
                .or(job_leases::Column::ExpiresAt.lte(now_ms)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Extends a lease we hold. `false` means we lost it (it expired and someone took it).
pub async fn renew(
    db: &DatabaseConnection,
    job: &str,
    owner: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool, DbErr> {
    let updated = job_leases::Entity::update_many()
        .col_expr(job_leases::Column::ExpiresAt, Expr::value(now_ms + ttl_ms))
        .filter(job_leases::Column::JobName.eq(job))
        .filter(job_leases::Column::Owner.eq(owner))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Gives a lease back so another replica may run the job at once.
pub async fn release(db: &DatabaseConnection, job: &str, owner: &str) -> Result<(), DbErr> {
    job_leases::Entity::delete_many()
        .filter(job_leases::Column::JobName.eq(job))
        .filter(job_leases::Column::Owner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Claims one scheduled slot of a job (e.g. the minute it was due). Only the first claimer of a
/// slot gets `true`, on any number of replicas; the table also shows missed slots at start.
pub async fn claim_slot(
    db: &DatabaseConnection,
    job: &str,
    slot_ms: i64,
    owner: &str,
) -> Result<bool, DbErr> {
    let inserted = job_runs::Entity::insert(job_runs::ActiveModel {
        job_name: Set(job.to_owned()),
        slot: Set(slot_ms),
        owner: Set(owner.to_owned()),
        started_at: Set(now_ms()),
        finished_at: Set(None),
        status: Set(job_runs::Status::Running),
        detail: Set(None),
    })
    .on_conflict(
        OnConflict::columns([job_runs::Column::JobName, job_runs::Column::Slot])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// Records how a claimed slot ended.
pub async fn finish_slot(
    db: &DatabaseConnection,
    job: &str,
    slot_ms: i64,
    status: job_runs::Status,
    detail: Option<String>,
) -> Result<(), DbErr> {
    job_runs::Entity::update_many()
        .col_expr(job_runs::Column::FinishedAt, Expr::value(now_ms()))
        .col_expr(job_runs::Column::Status, Expr::value(status))
        .col_expr(job_runs::Column::Detail, Expr::value(detail))
        .filter(job_runs::Column::JobName.eq(job))
        .filter(job_runs::Column::Slot.eq(slot_ms))
        .exec(db)
        .await?;
    Ok(())
}

/// Tells a running job to stop at its next safe point: the lease was lost or the server is
/// shutting down.
#[derive(Clone, Debug)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// True once the job should stop.
    pub fn should_stop(&self) -> bool {
        *self.0.borrow()
    }

    /// A signal that never fires (tests and command-line runs).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        Self(rx)
    }
}

/// How a leased run went.
#[derive(Debug, PartialEq, Eq)]
pub enum LeasedRun<T> {
    /// We held the lease and the job returned.
    Ran(T),
    /// Another owner holds the lease.
    Busy,
}

/// Runs `job` if the lease can be taken, renewing it every third of its TTL while the job runs
/// and releasing it afterwards. The job gets a [`StopSignal`] that fires if renewal fails or
/// `shutdown` fires.
pub async fn run_leased<T, F, Fut>(
    db: &DatabaseConnection,
    job_name: &str,
    owner: &str,
    ttl: Duration,
    shutdown: Option<watch::Receiver<bool>>,
    job: F,
) -> Result<LeasedRun<T>, DbErr>
where
    F: FnOnce(StopSignal) -> Fut,
    Fut: Future<Output = T>,
{
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    // Each run is its own owner, so two runs in one process exclude each other too.
    let owner = format!("{owner}/{}", uuid::Uuid::now_v7());
    let owner = owner.as_str();
    if !try_acquire(db, job_name, owner, now_ms(), ttl_ms).await? {
        return Ok(LeasedRun::Busy);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let heartbeat = {
        let db = db.clone();
        let job_name = job_name.to_owned();
        let owner = owner.to_owned();
        let stop_tx = stop_tx.clone();
        let mut shutdown = shutdown;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(ttl / 3);
            tick.tick().await;
            loop {
                let shutting_down = async {
                    match shutdown.as_mut() {
                        Some(rx) => {
                            let _ = rx.wait_for(|s| *s).await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tick.tick() => {
                        match renew(&db, &job_name, &owner, now_ms(), ttl_ms).await {
                            Ok(true) => {}
                            Ok(false) | Err(_) => {
                                tracing::warn!(job = %job_name, "Lost the job lease; the job stops at its next safe point.");
                                let _ = stop_tx.send(true);
                                break;
                            }
                        }
                    }
                    _ = shutting_down => {
                        let _ = stop_tx.send(true);
                        break;
                    }
                }
            }
        })
    };
    let out = job(StopSignal(stop_rx)).await;
    heartbeat.abort();
    release(db, job_name, owner).await?;
    Ok(LeasedRun::Ran(out))
}
