//! Payment-data retention: the tenant's versioned policy, enforcement on LeakGuard's own store in
//! short batches that resume after a crash without counting twice, dry runs and the standing
//! inventory, and evidence in the audit chain for every completed run.
//!
//! The Magento classes are enforced by the module's executor, which fetches the policy
//! (`Policy::to_module_json`) and reports back; this module enforces the classes that live in
//! LeakGuard's own store (stored webhook payloads).

mod inventory;

use leakguard_domain::audit::Subject;
use leakguard_domain::retention::{
    self as rules, Action, DataClass, IdChain, Policy, PolicyError, age_bucket, cutoff_ms,
    default_policy,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;
use uuid::Uuid;

use crate::audit_chain::{self, AuditError};
use crate::db::entities::{retention_policies, retention_runs, webhook_deliveries};
use crate::db::{begin_write, now_ms};
use crate::tenancy::{TenantCtx, scoped};
pub use inventory::{ClassAlert, InventoryEntry, InventoryItem, MagentoClassState, inventory};

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// The policy is not valid.
    #[error("invalid policy: {0}")]
    Invalid(crate::invalid_input::InvalidInput),
    /// A batch failed; the run stays open and resumes next time.
    #[error("retention batch failed: {0}")]
    Batch(String),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for RetentionError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for RetentionError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<PolicyError> for RetentionError {
    fn from(e: PolicyError) -> Self {
        Self::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidRetentionPolicy,
            e.to_string(),
        ))
    }
}

/// The tenant's current policy (the default, version 1, until an admin saves one).
pub async fn current_policy<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
) -> Result<Policy, RetentionError> {
    let row = scoped::<retention_policies::Entity>(ctx)
        .order_by_desc(retention_policies::Column::Version)
        .one(db)
        .await?;
    match row {
        None => Ok(default_policy()),
        Some(row) => serde_json::from_str(&row.body).map_err(|e| {
            RetentionError::Unexpected(anyhow::anyhow!("stored policy unreadable: {e}"))
        }),
    }
}

/// Saves a new version of the policy (admins). The version is assigned here; the body's
/// version is ignored. Validation failures change nothing.
pub async fn save_policy(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    mut policy: Policy,
) -> Result<Policy, RetentionError> {
    let txn = begin_write(db).await?;
    let current = current_policy(&txn, ctx).await?;
    policy.version = current.version + 1;
    let policy = policy.validate()?;
    let body = serde_json::to_string(&policy).map_err(|e| RetentionError::Unexpected(e.into()))?;
    retention_policies::Entity::insert(retention_policies::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        version: Set(i32::try_from(policy.version).unwrap_or(i32::MAX)),
        body: Set(body),
        created_at: Set(now_ms()),
        created_by: Set(ctx.actor().id.clone()),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "retention.policy.saved",
        Subject::new("retention_policy", policy.version.to_string()),
        serde_json::to_value(&policy).map_err(|e| RetentionError::Unexpected(e.into()))?,
    )
    .await?;
    txn.commit().await?;
    Ok(policy)
}

/// How one class's enforcement went.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ClassReport {
    /// The run (none for a dry run).
    pub run_id: Option<Uuid>,
    /// Data class.
    pub class: DataClass,
    /// `complete`, `dry_run` or `nothing_to_do`.
    pub status: String,
    /// Whether an interrupted run was resumed.
    pub resumed: bool,
    /// Policy version applied.
    pub policy_version: u32,
    /// Data anchored before this (Unix ms; RFC 3339 UTC in JSON) was past its age.
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub cutoff: i64,
    /// Rows changed (or, for a dry run, that would be).
    pub rows_affected: i64,
    /// Evidence hash over the affected ids (see `IdChain`).
    pub ids_sha256: String,
    /// Oldest and newest anchor time among affected rows (RFC 3339 UTC in JSON).
    #[serde(serialize_with = "crate::api_time::range::serialize")]
    #[schema(value_type = Option<Vec<String>>, min_items = 2, max_items = 2)]
    pub time_range: Option<(i64, i64)>,
    /// Batches committed.
    pub batches: i32,
    /// Longest batch transaction (the longest any row lock was held), ms.
    pub max_batch_ms: i64,
    /// Dry run: rows per age bucket.
    pub by_age: BTreeMap<String, i64>,
}

/// How enforcement is run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// "Now" for cut-offs (a parameter, so tests need no clock).
    pub now_ms: i64,
    /// Report only; change nothing.
    pub dry_run: bool,
    /// Rows per batch transaction.
    pub batch_size: u64,
}

impl Options {
    /// Enforcement now with the default batch size.
    pub fn now() -> Self {
        Self {
            now_ms: now_ms(),
            dry_run: false,
            batch_size: 1000,
        }
    }
}

/// Called after each committed batch with its number; an error stops the run there (tests
/// inject crashes with it). The run resumes on the next call.
pub type AfterBatch<'a> = &'a (dyn Fn(i32) -> Result<(), String> + Sync);

/// Enforces the own-store classes of the tenant's policy.
pub async fn enforce_own_store(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    options: Options,
    after_batch: AfterBatch<'_>,
) -> Result<Vec<ClassReport>, RetentionError> {
    let policy = current_policy(db, ctx).await?;
    let mut reports = Vec::new();
    if let Some(rule) = policy.rule(DataClass::WebhookPayloads) {
        let report = if options.dry_run {
            dry_run_payloads(db, ctx, rule, policy.version, options).await?
        } else {
            enforce_payloads(db, ctx, rule, policy.version, options, after_batch).await?
        };
        reports.push(report);
    }
    Ok(reports)
}

fn candidates(ctx: &TenantCtx, cutoff: i64) -> sea_orm::Select<webhook_deliveries::Entity> {
    scoped::<webhook_deliveries::Entity>(ctx)
        .filter(webhook_deliveries::Column::Payload.is_not_null())
        .filter(webhook_deliveries::Column::ReceivedAt.lt(cutoff))
}

async fn dry_run_payloads(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    rule: &rules::Rule,
    version: u32,
    options: Options,
) -> Result<ClassReport, RetentionError> {
    let cutoff = cutoff_ms(rule, options.now_ms);
    let mut by_age = BTreeMap::new();
    let mut chain = IdChain::default();
    let mut range: Option<(i64, i64)> = None;
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = candidates(ctx, cutoff);
        if let Some(last) = after {
            q = q.filter(webhook_deliveries::Column::Id.gt(last));
        }
        let rows: Vec<(Uuid, i64)> = q
            .select_only()
            .column(webhook_deliveries::Column::Id)
            .column(webhook_deliveries::Column::ReceivedAt)
            .order_by_asc(webhook_deliveries::Column::Id)
            .limit(10_000)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.0);
        for (id, received) in rows {
            chain.push(&id.to_string());
            *by_age
                .entry(age_bucket(options.now_ms - received).to_owned())
                .or_insert(0) += 1;
            range = Some(range.map_or((received, received), |(a, b)| {
                (a.min(received), b.max(received))
            }));
        }
    }
    Ok(ClassReport {
        run_id: None,
        class: DataClass::WebhookPayloads,
        status: "dry_run".into(),
        resumed: false,
        policy_version: version,
        cutoff,
        rows_affected: i64::try_from(chain.count()).unwrap_or(i64::MAX),
        ids_sha256: chain.hex().to_owned(),
        time_range: range,
        batches: 0,
        max_batch_ms: 0,
        by_age,
    })
}

const CLASS_PAYLOADS: &str = "webhook_payloads";

async fn enforce_payloads(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    rule: &rules::Rule,
    version: u32,
    options: Options,
    after_batch: AfterBatch<'_>,
) -> Result<ClassReport, RetentionError> {
    // Resume an interrupted run with its own cut-off and counters, or open a new one.
    let open = scoped::<retention_runs::Entity>(ctx)
        .filter(retention_runs::Column::Class.eq(CLASS_PAYLOADS))
        .filter(retention_runs::Column::Source.eq(retention_runs::Source::Server))
        .filter(retention_runs::Column::Status.eq("running"))
        .one(db)
        .await?;
    let resumed = open.is_some();
    let mut run = match open {
        Some(run) => run,
        None => {
            let cutoff = cutoff_ms(rule, options.now_ms);
            if candidates(ctx, cutoff).one(db).await?.is_none() {
                return Ok(ClassReport {
                    run_id: None,
                    class: DataClass::WebhookPayloads,
                    status: "nothing_to_do".into(),
                    resumed: false,
                    policy_version: version,
                    cutoff,
                    rows_affected: 0,
                    ids_sha256: IdChain::default().hex().to_owned(),
                    time_range: None,
                    batches: 0,
                    max_batch_ms: 0,
                    by_age: BTreeMap::new(),
                });
            }
            let txn = begin_write(db).await?;
            let model = retention_runs::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(ctx.tenant_id().as_uuid()),
                class: Set(CLASS_PAYLOADS.into()),
                source: Set(retention_runs::Source::Server),
                status: Set("running".into()),
                policy_version: Set(i32::try_from(version).unwrap_or(i32::MAX)),
                cutoff: Set(cutoff),
                started_at: Set(now_ms()),
                finished_at: Set(None),
                last_key: Set(None),
                rows_affected: Set(0),
                ids_hash: Set(IdChain::default().hex().to_owned()),
                first_affected_at: Set(None),
                last_affected_at: Set(None),
                batches: Set(0),
                max_batch_ms: Set(0),
                error: Set(None),
                report: Set(None),
            };
            let run = retention_runs::Entity::insert(model)
                .exec_with_returning(&txn)
                .await?;
            audit_chain::record(
                &txn,
                ctx,
                "retention.run.started",
                Subject::new("retention_run", run.id.to_string()),
                serde_json::json!({"class": CLASS_PAYLOADS, "cutoff": cutoff, "policy_version": version}),
            )
            .await?;
            txn.commit().await?;
            run
        }
    };

    loop {
        let started = Instant::now();
        let txn = begin_write(db).await?;
        let mut q = candidates(ctx, run.cutoff);
        if let Some(last) = run
            .last_key
            .as_deref()
            .and_then(|k| Uuid::parse_str(k).ok())
        {
            q = q.filter(webhook_deliveries::Column::Id.gt(last));
        }
        let rows: Vec<(Uuid, i64)> = q
            .select_only()
            .column(webhook_deliveries::Column::Id)
            .column(webhook_deliveries::Column::ReceivedAt)
            .order_by_asc(webhook_deliveries::Column::Id)
            .limit(options.batch_size)
            .into_tuple()
            .all(&txn)
            .await?;
        let Some(&(last_id, _)) = rows.last() else {
            txn.rollback().await?;
            break;
        };
        let ids: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
        match rule.action {
            // Only the payload goes: the delivery row stays as the record of receipt and for
            // de-duplication.
            Action::Delete | Action::RedactKeys | Action::Null | Action::StripRawDetails => {
                webhook_deliveries::Entity::update_many()
                    .col_expr(
                        webhook_deliveries::Column::Payload,
                        Expr::value(Option::<Vec<u8>>::None),
                    )
                    .filter(webhook_deliveries::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
                    .filter(webhook_deliveries::Column::Id.is_in(ids.clone()))
                    .exec(&txn)
                    .await?;
            }
        }
        let mut chain = IdChain::resume(
            run.ids_hash.clone(),
            u64::try_from(run.rows_affected).unwrap_or(0),
        );
        for id in &ids {
            chain.push(&id.to_string());
        }
        let (lo, hi) = rows.iter().fold((i64::MAX, i64::MIN), |(a, b), (_, t)| {
            (a.min(*t), b.max(*t))
        });
        let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let mut active: retention_runs::ActiveModel = run.clone().into();
        active.last_key = Set(Some(last_id.to_string()));
        active.rows_affected = Set(i64::try_from(chain.count()).unwrap_or(i64::MAX));
        active.ids_hash = Set(chain.hex().to_owned());
        active.first_affected_at = Set(Some(run.first_affected_at.map_or(lo, |f| f.min(lo))));
        active.last_affected_at = Set(Some(run.last_affected_at.map_or(hi, |l| l.max(hi))));
        active.batches = Set(run.batches + 1);
        active.max_batch_ms = Set(run.max_batch_ms.max(elapsed));
        active.error = Set(None);
        run = retention_runs::Entity::update(active).exec(&txn).await?;
        txn.commit().await?;
        if let Err(reason) = after_batch(run.batches) {
            record_error(db, run.id, &reason).await?;
            return Err(RetentionError::Batch(reason));
        }
    }

    let txn = begin_write(db).await?;
    let mut active: retention_runs::ActiveModel = run.clone().into();
    active.status = Set("complete".into());
    active.finished_at = Set(Some(now_ms()));
    let run = retention_runs::Entity::update(active).exec(&txn).await?;
    audit_chain::record(
        &txn,
        ctx,
        "retention.run.completed",
        Subject::new("retention_run", run.id.to_string()),
        serde_json::json!({
            "class": CLASS_PAYLOADS,
            "source": "server",
            "policy_version": run.policy_version,
            "cutoff": run.cutoff,
            "rows_affected": run.rows_affected,
            "ids_sha256": run.ids_hash,
            "first_affected_at": run.first_affected_at,
            "last_affected_at": run.last_affected_at,
            "batches": run.batches,
            "resumed": resumed,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(ClassReport {
        run_id: Some(run.id),
        class: DataClass::WebhookPayloads,
        status: "complete".into(),
        resumed,
        policy_version: u32::try_from(run.policy_version).unwrap_or(0),
        cutoff: run.cutoff,
        rows_affected: run.rows_affected,
        ids_sha256: run.ids_hash,
        time_range: run.first_affected_at.zip(run.last_affected_at),
        batches: run.batches,
        max_batch_ms: run.max_batch_ms,
        by_age: BTreeMap::new(),
    })
}

async fn record_error(db: &DatabaseConnection, run: Uuid, reason: &str) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    retention_runs::Entity::update_many()
        .col_expr(
            retention_runs::Column::Error,
            Expr::value(reason.to_owned()),
        )
        .filter(retention_runs::Column::Id.eq(run))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// A run as listed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = RetentionRunView)]
pub struct RunView {
    /// Id.
    pub id: Uuid,
    /// Class.
    pub class: String,
    /// `server` or `magento`.
    pub source: retention_runs::Source,
    /// `running` (interrupted runs resume), `complete`.
    pub status: String,
    /// Policy version.
    pub policy_version: i32,
    /// Cut-off, Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub cutoff: i64,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: i64,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<i64>,
    /// Rows changed.
    pub rows_affected: i64,
    /// Evidence hash.
    pub ids_sha256: String,
    /// Batches.
    pub batches: i32,
    /// Longest batch, ms.
    pub max_batch_ms: i64,
    /// The last batch error, when a run is stuck (Magento runs: why a class was not applied).
    pub error: Option<String>,
    /// Magento runs: the module's evidence beyond the columns (report id, table, action,
    /// anchor, alerts, undecodable values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl From<retention_runs::Model> for RunView {
    fn from(r: retention_runs::Model) -> Self {
        Self {
            id: r.id,
            class: r.class,
            source: r.source,
            status: r.status,
            policy_version: r.policy_version,
            cutoff: r.cutoff,
            started_at: r.started_at,
            finished_at: r.finished_at,
            rows_affected: r.rows_affected,
            ids_sha256: r.ids_hash,
            batches: r.batches,
            max_batch_ms: r.max_batch_ms,
            error: r.error,
            details: r
                .report
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
        }
    }
}

/// Run history, newest first: the own-store runs (`source = "server"`) and the classes the
/// Magento module reported (`source = "magento"`, one row per class of each report).
pub async fn list_runs(db: &DatabaseConnection, ctx: &TenantCtx) -> Result<Vec<RunView>, DbErr> {
    Ok(scoped::<retention_runs::Entity>(ctx)
        .order_by_desc(retention_runs::Column::StartedAt)
        .limit(500)
        .all(db)
        .await?
        .into_iter()
        .map(RunView::from)
        .collect())
}

/// One run of the tenant.
pub async fn get_run(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<Option<RunView>, DbErr> {
    Ok(scoped::<retention_runs::Entity>(ctx)
        .filter(retention_runs::Column::Id.eq(id))
        .one(db)
        .await?
        .map(RunView::from))
}

/// Outcome of the daily job for one slot.
#[derive(Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// This server ran the slot: tenants processed and tenants that failed.
    Ran {
        /// Tenants enforced.
        tenants: usize,
        /// Tenants whose enforcement failed (they resume next time).
        failed: usize,
    },
    /// Another server (or an earlier start) already ran this slot.
    AlreadyRan,
}

/// The daily slot (start of the UTC day) that `now_ms` falls in.
pub fn daily_slot(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(rules::DAY_MS)
}

/// The retention job: claims the day's slot (once across replicas), then enforces every
/// tenant's own-store classes. A failing tenant is logged, counted, and resumed next run; the
/// others still run.
pub async fn run_job(
    db: &DatabaseConnection,
    owner: &str,
    slot_ms: i64,
    now: i64,
) -> Result<JobOutcome, RetentionError> {
    if !crate::jobs::claim_slot(db, "retention", slot_ms, owner).await? {
        return Ok(JobOutcome::AlreadyRan);
    }
    let tenants = crate::db::entities::tenants::Entity::find()
        .filter(
            crate::db::entities::tenants::Column::Status
                .ne(crate::db::entities::tenants::Status::Purged),
        )
        .all(db)
        .await?;
    let mut failed = 0;
    for tenant in &tenants {
        let ctx = TenantCtx::system(leakguard_domain::ids::TenantId(tenant.id), "retention");
        let options = Options {
            now_ms: now,
            dry_run: false,
            batch_size: 1000,
        };
        if let Err(e) = enforce_own_store(db, &ctx, options, &|_| Ok(())).await {
            failed += 1;
            tracing::error!(tenant_id = %tenant.id, error = %e, "Retention enforcement failed; it resumes on the next run.");
        }
    }
    let status = if failed == 0 {
        crate::db::entities::job_runs::Status::Ok
    } else {
        crate::db::entities::job_runs::Status::Failed
    };
    crate::jobs::finish_slot(
        db,
        "retention",
        slot_ms,
        status,
        Some(format!("{} tenants, {failed} failed", tenants.len())),
    )
    .await?;
    Ok(JobOutcome::Ran {
        tenants: tenants.len(),
        failed,
    })
}

impl crate::jobs::registry::JobReport for JobOutcome {
    fn outcome(&self) -> crate::jobs::registry::Outcome {
        use crate::jobs::registry::Outcome;
        match self {
            Self::Ran { failed: 0, .. } => Outcome::Ok,
            Self::Ran { .. } => Outcome::Failed,
            Self::AlreadyRan => Outcome::Busy,
        }
    }
}

/// Job: today's slot of [`run_job`] at the current time.
pub async fn retention_job(db: &DatabaseConnection, owner: &str) -> anyhow::Result<JobOutcome> {
    let now = now_ms();
    Ok(run_job(db, owner, daily_slot(now), now).await?)
}
