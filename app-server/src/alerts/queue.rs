//! Streaming detection: a bounded set of tenants with new inputs, and the workers that drain it.
//!
//! Ingest marks a tenant after its transaction commits ([`DetectionQueue::mark`]); a tenant
//! already waiting is not queued twice, and a full queue drops the mark (counted) because the
//! sweep finds the tenant anyway. [`WORKERS`] tasks take tenants in arrival order; a run reads at
//! most `detect::BATCH` lines and a tenant with more goes to the back, so one busy tenant cannot
//! starve the others. Every [`SWEEP_EVERY`] and at start each worker sweeps the cursors for
//! tenants with unprocessed lines (lines stored by another replica, marks dropped, a restart).
//! Nothing is spawned per request; the per-tenant cursor row lock keeps two workers (or two
//! replicas) from processing one tenant at once.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::db::entities::detection_cursors;
use crate::metrics::Metrics;

/// Tenants waiting at most; more marks are dropped and found by the sweep.
pub const CAPACITY: usize = 10_000;
/// Detection tasks per process (SQLite has one writer; PostgreSQL gets two tenants at once).
pub const WORKERS: usize = 2;
/// How often a worker looks for tenants with unprocessed lines without being told.
pub const SWEEP_EVERY: Duration = Duration::from_secs(15);

#[derive(Default)]
struct Waiting {
    order: VecDeque<Uuid>,
    members: HashSet<Uuid>,
}

struct Inner {
    waiting: Mutex<Waiting>,
    notify: Notify,
    dropped: AtomicU64,
}

/// The set of tenants with new inputs, in arrival order. Cheap to clone.
#[derive(Clone)]
pub struct DetectionQueue {
    inner: Arc<Inner>,
}

impl Default for DetectionQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for DetectionQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectionQueue")
            .field("waiting", &self.len())
            .finish()
    }
}

impl DetectionQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                waiting: Mutex::new(Waiting::default()),
                notify: Notify::new(),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Queues `tenant` for detection (after the transaction that stored its inputs committed).
    pub fn mark(&self, tenant: Uuid) {
        let Ok(mut waiting) = self.inner.waiting.lock() else {
            return;
        };
        if waiting.members.contains(&tenant) {
            return;
        }
        if waiting.order.len() >= CAPACITY {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        waiting.order.push_back(tenant);
        waiting.members.insert(tenant);
        drop(waiting);
        self.inner.notify.notify_one();
    }

    /// The tenant waiting longest.
    pub fn pop(&self) -> Option<Uuid> {
        let mut waiting = self.inner.waiting.lock().ok()?;
        let tenant = waiting.order.pop_front()?;
        waiting.members.remove(&tenant);
        Some(tenant)
    }

    /// Tenants waiting.
    pub fn len(&self) -> usize {
        self.inner.waiting.lock().map_or(0, |w| w.order.len())
    }

    /// Whether no tenant waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Marks dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Marks dropped since the last call (for a counter metric).
    fn take_dropped(&self) -> u64 {
        self.inner.dropped.swap(0, Ordering::Relaxed)
    }
}

/// Queues every tenant with unprocessed lines; returns how many were found.
pub async fn sweep(db: &DatabaseConnection, queue: &DetectionQueue) -> anyhow::Result<usize> {
    let pending: Vec<Uuid> = detection_cursors::Entity::find()
        .select_only()
        .column(detection_cursors::Column::TenantId)
        .filter(
            Expr::col(detection_cursors::Column::ProcessedSeq)
                .lt(Expr::col(detection_cursors::Column::InputSeq)),
        )
        .limit(CAPACITY as u64)
        .into_tuple()
        .all(db)
        .await?;
    for tenant in &pending {
        queue.mark(*tenant);
    }
    Ok(pending.len())
}

/// Drains the queue until `shutdown` turns true; sweeps at start and every [`SWEEP_EVERY`].
pub async fn run_worker(
    db: DatabaseConnection,
    queue: DetectionQueue,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut next_sweep = tokio::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            return;
        }
        if tokio::time::Instant::now() >= next_sweep {
            next_sweep = tokio::time::Instant::now() + SWEEP_EVERY;
            if let Err(e) = sweep(&db, &queue).await {
                tracing::warn!(error = format!("{e:#}"), "Detection sweep failed.");
            }
        }
        while let Some(tenant) = queue.pop() {
            match super::detect::process_tenant(&db, tenant, crate::db::now_ms()).await {
                Ok(outcome) => {
                    metrics.count_detection_run(true, outcome.signals, outcome.opened);
                    if outcome.more {
                        queue.mark(tenant);
                    }
                }
                Err(e) => {
                    // Left for the sweep: the inputs stay until a run commits.
                    metrics.count_detection_run(false, 0, 0);
                    tracing::warn!(tenant_id = %tenant, error = format!("{e:#}"), "Detection run failed.");
                }
            }
            metrics
                .detection_queue_tenants
                .set(i64::try_from(queue.len()).unwrap_or(i64::MAX));
            metrics.detection_marks_dropped.inc_by(queue.take_dropped());
            if *shutdown.borrow() {
                return;
            }
        }
        tokio::select! {
            _ = queue.inner.notify.notified() => {}
            _ = tokio::time::sleep_until(next_sweep) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_waits_once_and_tenants_leave_in_arrival_order() {
        let queue = DetectionQueue::new();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        queue.mark(a);
        queue.mark(b);
        queue.mark(a);
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.pop(), Some(a));
        queue.mark(a);
        assert_eq!(queue.pop(), Some(b));
        assert_eq!(queue.pop(), Some(a));
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn a_full_queue_drops_marks_and_counts_them() {
        let queue = DetectionQueue::new();
        for _ in 0..CAPACITY {
            queue.mark(Uuid::now_v7());
        }
        queue.mark(Uuid::now_v7());
        assert_eq!(queue.len(), CAPACITY);
        assert_eq!(queue.dropped(), 1);
        assert_eq!(queue.take_dropped(), 1);
        assert_eq!(queue.dropped(), 0);
    }
}
