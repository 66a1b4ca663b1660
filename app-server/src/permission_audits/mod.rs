//! Permission audits of third-party apps, integrations and admin users: runs, findings and
//! their review.
//!
//! A run reads a snapshot from a [`SnapshotSource`], diffs it with the previous snapshot of the
//! tenant, evaluates it against the tenant's allow-list (`leakguard_domain::permissions`) and
//! upserts findings by their stable key: a finding a later run no longer produces is resolved,
//! one that comes back is re-opened. Reviews (acknowledge, accept a risk until a date, mark for
//! revocation) are kept as a history; the state a finding shows is computed from its last
//! decision at read time, so an accepted risk re-opens by itself when it expires or its grants
//! change. Every run, finding change and review writes its audit entry in the same transaction.
//!
//! This module never talks HTTP to its callers and never imports actix.

pub mod magento_source;
pub mod schedule;
pub mod shopify_source;
pub mod source;
pub mod sources;

use leakguard_domain::audit::Subject;
use leakguard_domain::permissions::{
    self as model, Change, Decision, Finding, FindingKind, FindingState, Level, Platform, Policy,
    Snapshot,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

use crate::audit_chain::{self, AuditError};
use crate::db::begin_write;
use crate::db::entities::{
    perm_audit_runs, perm_audit_schedules, perm_audit_snapshots, perm_findings, perm_policies,
    perm_reviews, tenants,
};
use crate::tenancy::{TenantCtx, scoped};
pub use source::{Collected, SnapshotSource, SourceError, StaticSource};
pub use sources::AuditSources;

/// The longest an accepted risk may last.
pub const MAX_ACCEPT_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;
const MAX_JUSTIFICATION: usize = 2000;
const MAX_POLICY_BYTES: usize = 256 * 1024;

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum AuditsError {
    /// Bad input, with a message safe to show.
    #[error("{0}")]
    Invalid(crate::invalid_input::InvalidInput),
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// The role may not do this.
    #[error("your role does not allow this")]
    Forbidden,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for AuditsError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for AuditsError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<serde_json::Error> for AuditsError {
    fn from(e: serde_json::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

/// What started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// "Run now" in the console or the API.
    Manual,
    /// The tenant's schedule.
    Schedule,
    /// `leakguard permissions audit`.
    Cli,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Schedule => "schedule",
            Self::Cli => "cli",
        }
    }
}

fn platform_str(p: Platform) -> &'static str {
    match p {
        Platform::Shopify => "shopify",
        Platform::Magento => "magento",
    }
}

/// An audit run.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PermissionAuditRunView)]
pub struct RunView {
    /// Id.
    pub id: Uuid,
    /// `shopify` or `magento`.
    pub platform: String,
    /// `manual`, `schedule` or `cli`.
    pub trigger: String,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: i64,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<i64>,
    /// `running`, `succeeded` or `failed`.
    pub status: perm_audit_runs::Status,
    /// False when part of the picture could not be read.
    pub complete: bool,
    /// Principals seen.
    pub principals: i32,
    /// Changes since the previous run.
    pub changes: i32,
    /// Findings this run produced.
    pub findings_active: i32,
    /// Findings opened or re-opened by this run.
    pub findings_new: i32,
    /// Findings this run resolved.
    pub findings_resolved: i32,
    /// Plain-words note for the tenant admin.
    pub notice: Option<String>,
    /// Why the run failed (safe to show).
    pub error: Option<String>,
}

impl From<perm_audit_runs::Model> for RunView {
    fn from(r: perm_audit_runs::Model) -> Self {
        Self {
            id: r.id,
            platform: r.platform,
            trigger: r.trigger,
            started_at: r.started_at,
            finished_at: r.finished_at,
            status: r.status,
            complete: r.complete,
            principals: r.principals,
            changes: r.changes,
            findings_active: r.findings_active,
            findings_new: r.findings_new,
            findings_resolved: r.findings_resolved,
            notice: r.notice,
            error: r.error,
        }
    }
}

/// The last decision on a finding.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    /// `acknowledge`, `accept_risk` or `mark_for_revocation`.
    pub decision: String,
    /// Why (accepted risks).
    pub justification: Option<String>,
    /// Expiry of an accepted risk, Unix ms (RFC 3339 UTC in JSON).
    #[serde(rename = "until")]
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until_ms: Option<i64>,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<i64>,
}

/// A finding as shown in the console and the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FindingView {
    /// Id.
    pub id: Uuid,
    /// Stable key across runs.
    pub key: String,
    /// Kind.
    pub kind: String,
    /// Short label of the kind.
    pub kind_label: String,
    /// `none` … `critical`.
    pub severity: String,
    /// `open`, `acknowledged`, `risk_accepted`, `revocation_requested` or `resolved`.
    pub state: String,
    /// Principal key.
    pub principal: Option<String>,
    /// Principal display name.
    pub principal_name: Option<String>,
    /// The grants the finding is about.
    pub grants: Vec<String>,
    /// A sentence.
    pub message: String,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: i64,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: i64,
    /// Unix ms (RFC 3339 UTC in JSON), when a later run no longer produced it.
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<i64>,
    /// The last decision, if any.
    pub decision: Option<DecisionView>,
}

fn state_str(s: FindingState) -> &'static str {
    match s {
        FindingState::Open => "open",
        FindingState::Acknowledged => "acknowledged",
        FindingState::RiskAccepted => "risk_accepted",
        FindingState::RevocationRequested => "revocation_requested",
    }
}

fn grants_of(json: &str) -> BTreeSet<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn finding_view(row: perm_findings::Model, now_ms: i64) -> FindingView {
    let kind = FindingKind::parse(&row.kind);
    let grants = grants_of(&row.grants);
    let decision: Option<Decision> = row
        .decision
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok());
    let state = if row.resolved_at.is_some() {
        "resolved"
    } else {
        match kind {
            Some(kind) => {
                let finding = Finding {
                    key: row.finding_key.clone(),
                    kind,
                    severity: Level::parse(&row.severity).unwrap_or(Level::Medium),
                    principal: row.principal.clone(),
                    grants: grants.clone(),
                    message: row.message.clone(),
                };
                state_str(model::state(decision.as_ref(), &finding, now_ms))
            }
            None => "open",
        }
    };
    let decision = decision.map(|d| match d {
        Decision::Acknowledge => DecisionView {
            decision: "acknowledge".into(),
            justification: None,
            until_ms: None,
            decided_at: row.decided_at,
        },
        Decision::AcceptRisk {
            justification,
            until_ms,
            ..
        } => DecisionView {
            decision: "accept_risk".into(),
            justification: Some(justification),
            until_ms: Some(until_ms),
            decided_at: row.decided_at,
        },
        Decision::MarkForRevocation => DecisionView {
            decision: "mark_for_revocation".into(),
            justification: None,
            until_ms: None,
            decided_at: row.decided_at,
        },
    });
    FindingView {
        id: row.id,
        key: row.finding_key,
        kind_label: kind.map(FindingKind::label).unwrap_or("Finding").to_owned(),
        kind: row.kind,
        severity: row.severity,
        state: state.into(),
        principal: row.principal,
        principal_name: row.principal_name,
        grants: grants.into_iter().collect(),
        message: row.message,
        first_seen: row.first_seen,
        last_seen: row.last_seen,
        resolved_at: row.resolved_at,
        decision,
    }
}

/// One review decision in the history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    /// Id.
    pub id: Uuid,
    /// The finding.
    pub finding_id: Uuid,
    /// Its key.
    pub finding_key: String,
    /// `acknowledge`, `accept_risk` or `mark_for_revocation`.
    pub decision: perm_reviews::Decision,
    /// Why.
    pub justification: Option<String>,
    /// Expiry of an accepted risk, Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<i64>,
    /// The grants the decision was about.
    pub grants: Vec<String>,
    /// The deciding user.
    pub user_id: Option<Uuid>,
    /// The deciding actor as recorded in the audit chain.
    pub actor: String,
    /// The deciding user's display name (or the actor).
    pub actor_name: String,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// `pending` for a revocation a ticketing step has not picked up yet.
    pub ticket_status: Option<perm_reviews::TicketStatus>,
}

impl From<perm_reviews::Model> for ReviewView {
    fn from(r: perm_reviews::Model) -> Self {
        Self {
            id: r.id,
            finding_id: r.finding_id,
            finding_key: r.finding_key,
            decision: r.decision,
            justification: r.justification,
            expires_at: r.expires_at,
            grants: grants_of(&r.grants).into_iter().collect(),
            user_id: r.user_id,
            actor_name: r.actor.clone(),
            actor: r.actor,
            created_at: r.created_at,
            ticket_status: r.ticket_status,
        }
    }
}

/// Takes the per-tenant audit lock on PostgreSQL, so two runs of one tenant do not interleave
/// their finding upserts (SQLite's single writer serialises them already).
async fn lock_tenant<C: ConnectionTrait>(txn: &C, ctx: &TenantCtx) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        let bytes = ctx.tenant_id().as_uuid().as_u64_pair();
        let key = (bytes.0 ^ bytes.1) as i64 ^ 0x5045_524d; // "PERM"
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({key})"))
            .await?;
    }
    Ok(())
}

/// The tenant's allow-list policy (empty when none was set).
pub async fn get_policy<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
) -> Result<Policy, AuditsError> {
    match scoped::<perm_policies::Entity>(ctx).one(db).await? {
        Some(row) => Ok(serde_json::from_str(&row.policy)?),
        None => Ok(Policy::default()),
    }
}

/// Replaces the tenant's allow-list policy (admins).
pub async fn put_policy(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    policy: Policy,
    now_ms: i64,
) -> Result<Policy, AuditsError> {
    if !ctx.role().can_administer() {
        return Err(AuditsError::Forbidden);
    }
    if policy
        .allowed
        .keys()
        .any(|k| k.trim().is_empty() || k.len() > 512)
    {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidAllowList,
                "allow-list keys must be principal keys of 1 to 512 characters",
            ),
        ));
    }
    if policy
        .stale_admin_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidStaleAdminDays,
                "stale_admin_days must be 1 to 3650",
            ),
        ));
    }
    let text = serde_json::to_string(&policy)?;
    if text.len() > MAX_POLICY_BYTES {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::DocumentTooLarge,
                format!("the policy is larger than {MAX_POLICY_BYTES} bytes"),
            ),
        ));
    }
    let txn = begin_write(db).await?;
    perm_policies::Entity::delete_many()
        .filter(perm_policies::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .exec(&txn)
        .await?;
    perm_policies::Entity::insert(perm_policies::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        policy: Set(text),
        updated_at: Set(now_ms),
        updated_by: Set(ctx.actor().id.clone()),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_policy.updated",
        Subject::new("permission_policy", ctx.tenant_id().to_string()),
        serde_json::json!({"allowed": policy.allowed.len(), "stale_admin_days": policy.stale_admin_days}),
    )
    .await?;
    txn.commit().await?;
    Ok(policy)
}

async fn record_failure(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    run_id: Uuid,
    message: &str,
    now_ms: i64,
) -> Result<(), AuditsError> {
    let txn = begin_write(db).await?;
    perm_audit_runs::Entity::update_many()
        .col_expr(
            perm_audit_runs::Column::Status,
            Expr::value(perm_audit_runs::Status::Failed),
        )
        .col_expr(perm_audit_runs::Column::FinishedAt, Expr::value(now_ms))
        .col_expr(perm_audit_runs::Column::Error, Expr::value(message))
        .filter(perm_audit_runs::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(perm_audit_runs::Column::Id.eq(run_id))
        .exec(&txn)
        .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_audit.failed",
        Subject::new("permission_audit_run", run_id.to_string()),
        serde_json::json!({"error": message}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn load_run<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<perm_audit_runs::Model, AuditsError> {
    scoped::<perm_audit_runs::Entity>(ctx)
        .filter(perm_audit_runs::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AuditsError::NotFound)
}

/// Runs a permission audit now: reads the source, diffs with the previous snapshot, evaluates,
/// upserts findings and records the run. A source failure is recorded as a failed run (and
/// returned as such), not as an error.
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn run_now<S: SnapshotSource>(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    source: &S,
    trigger: Trigger,
    now_ms: i64,
) -> Result<RunView, AuditsError> {
    let run_id = Uuid::now_v7();
    let platform = source.platform();
    let txn = begin_write(db).await?;
    perm_audit_runs::Entity::insert(perm_audit_runs::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(run_id),
        platform: Set(platform_str(platform).into()),
        trigger: Set(trigger.as_str().into()),
        started_at: Set(now_ms),
        finished_at: Set(None),
        status: Set(perm_audit_runs::Status::Running),
        complete: Set(false),
        principals: Set(0),
        changes: Set(0),
        findings_active: Set(0),
        findings_new: Set(0),
        findings_resolved: Set(0),
        notice: Set(None),
        error: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_audit.started",
        Subject::new("permission_audit_run", run_id.to_string()),
        serde_json::json!({"platform": platform_str(platform), "trigger": trigger.as_str()}),
    )
    .await?;
    txn.commit().await?;

    let collected = match source.collect(ctx).await {
        Ok(c) => c,
        Err(SourceError::Unavailable(message)) => {
            record_failure(db, ctx, run_id, &message, now_ms).await?;
            return Ok(load_run(db, ctx, run_id).await?.into());
        }
        Err(SourceError::Unexpected(e)) => {
            tracing::warn!(error = format!("{e:#}"), "Permission audit source failed.");
            record_failure(db, ctx, run_id, "the platform could not be read", now_ms).await?;
            return Ok(load_run(db, ctx, run_id).await?.into());
        }
    };
    if collected.snapshot.platform != platform {
        record_failure(
            db,
            ctx,
            run_id,
            "the source returned another platform",
            now_ms,
        )
        .await?;
        return Ok(load_run(db, ctx, run_id).await?.into());
    }
    if let Err(e) = apply(db, ctx, run_id, collected, now_ms).await {
        // The transaction rolled back; the run must not stay `running`.
        if let Err(record) = record_failure(db, ctx, run_id, "internal error", now_ms).await {
            tracing::warn!(
                error = format!("{record:#}"),
                "Could not record the failed permission audit run."
            );
        }
        return Err(e);
    }
    Ok(load_run(db, ctx, run_id).await?.into())
}

async fn apply(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    run_id: Uuid,
    collected: Collected,
    now_ms: i64,
) -> Result<(), AuditsError> {
    let next = collected.snapshot;
    let platform = platform_str(next.platform);
    let txn = begin_write(db).await?;
    lock_tenant(&txn, ctx).await?;
    let prev: Option<Snapshot> = scoped::<perm_audit_snapshots::Entity>(ctx)
        .filter(perm_audit_snapshots::Column::Platform.eq(platform))
        .order_by_desc(perm_audit_snapshots::Column::CreatedAt)
        .order_by_desc(perm_audit_snapshots::Column::RunId)
        .one(&txn)
        .await?
        .map(|row| serde_json::from_str(&row.snapshot))
        .transpose()?;
    let policy = get_policy(&txn, ctx).await?;
    let changes = match &prev {
        Some(prev) => model::diff(prev, &next),
        None => model::diff(
            &Snapshot {
                principals: Vec::new(),
                ..next.clone()
            },
            &next,
        ),
    };
    let findings = model::evaluate(prev.as_ref(), &next, &policy, &collected.own_scopes_used);
    let names: BTreeMap<&str, &str> = next
        .principals
        .iter()
        .map(|p| (p.key.as_str(), p.name.as_str()))
        .collect();

    let existing: BTreeMap<String, perm_findings::Model> = scoped::<perm_findings::Entity>(ctx)
        .all(&txn)
        .await?
        .into_iter()
        .map(|row| (row.finding_key.clone(), row))
        .collect();
    let mut produced = BTreeSet::new();
    // Findings seen again unchanged only get their last-seen time, in a few batched updates.
    let mut seen_only: Vec<Uuid> = Vec::new();
    let (mut n_new, mut n_resolved) = (0i32, 0i32);
    for f in &findings {
        produced.insert(f.key.clone());
        let grants = serde_json::to_string(&f.grants)?;
        let principal_name = f
            .principal
            .as_deref()
            .and_then(|k| names.get(k))
            .map(|n| (*n).to_owned());
        match existing.get(&f.key) {
            Some(row) => {
                let reopened = row.resolved_at.is_some();
                let changed = row.grants != grants || row.severity != f.severity.as_str();
                if !reopened
                    && !changed
                    && row.kind == f.kind.as_str()
                    && row.message == f.message
                    && row.principal_name == principal_name
                {
                    seen_only.push(row.id);
                    continue;
                }
                perm_findings::Entity::update_many()
                    .col_expr(perm_findings::Column::Kind, Expr::value(f.kind.as_str()))
                    .col_expr(
                        perm_findings::Column::Severity,
                        Expr::value(f.severity.as_str()),
                    )
                    .col_expr(perm_findings::Column::Grants, Expr::value(grants.clone()))
                    .col_expr(
                        perm_findings::Column::Message,
                        Expr::value(f.message.clone()),
                    )
                    .col_expr(
                        perm_findings::Column::PrincipalName,
                        Expr::value(principal_name.clone()),
                    )
                    .col_expr(perm_findings::Column::LastSeen, Expr::value(now_ms))
                    .col_expr(perm_findings::Column::ResolvedAt, Expr::value(None::<i64>))
                    .col_expr(perm_findings::Column::LastRunId, Expr::value(run_id))
                    .filter(perm_findings::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
                    .filter(perm_findings::Column::Id.eq(row.id))
                    .exec(&txn)
                    .await?;
                if reopened || changed {
                    if reopened {
                        n_new += 1;
                    }
                    audit_chain::record(
                        &txn,
                        ctx,
                        if reopened {
                            "permission_finding.reopened"
                        } else {
                            "permission_finding.changed"
                        },
                        Subject::new("permission_finding", row.id.to_string()),
                        serde_json::json!({
                            "key": f.key, "kind": f.kind.as_str(), "severity": f.severity.as_str(),
                            "grants": f.grants, "grants_before": grants_of(&row.grants),
                            "run": run_id.to_string(),
                        }),
                    )
                    .await?;
                }
            }
            None => {
                let id = Uuid::now_v7();
                perm_findings::Entity::insert(perm_findings::ActiveModel {
                    tenant_id: Set(ctx.tenant_id().as_uuid()),
                    id: Set(id),
                    finding_key: Set(f.key.clone()),
                    kind: Set(f.kind.as_str().into()),
                    severity: Set(f.severity.as_str().into()),
                    principal: Set(f.principal.clone()),
                    principal_name: Set(principal_name),
                    grants: Set(grants),
                    message: Set(f.message.clone()),
                    first_seen: Set(now_ms),
                    last_seen: Set(now_ms),
                    resolved_at: Set(None),
                    last_run_id: Set(run_id),
                    decision: Set(None),
                    decided_at: Set(None),
                })
                .exec_without_returning(&txn)
                .await?;
                n_new += 1;
                audit_chain::record(
                    &txn,
                    ctx,
                    "permission_finding.opened",
                    Subject::new("permission_finding", id.to_string()),
                    serde_json::json!({
                        "key": f.key, "kind": f.kind.as_str(), "severity": f.severity.as_str(),
                        "principal": f.principal, "grants": f.grants, "run": run_id.to_string(),
                    }),
                )
                .await?;
            }
        }
    }
    for ids in seen_only.chunks(500) {
        perm_findings::Entity::update_many()
            .col_expr(perm_findings::Column::LastSeen, Expr::value(now_ms))
            .col_expr(perm_findings::Column::LastRunId, Expr::value(run_id))
            .filter(perm_findings::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
            .filter(perm_findings::Column::Id.is_in(ids.iter().copied()))
            .exec(&txn)
            .await?;
    }
    // Resolve what this run no longer produces. An incomplete snapshot says nothing about
    // principals it could not see, so their findings stay as they are.
    let visible: BTreeSet<&str> = next.principals.iter().map(|p| p.key.as_str()).collect();
    for row in existing.values() {
        if row.resolved_at.is_some() || produced.contains(&row.finding_key) {
            continue;
        }
        if !next.complete
            && row
                .principal
                .as_deref()
                .is_some_and(|p| !visible.contains(p))
        {
            continue;
        }
        let platform_of_row = row
            .principal
            .as_deref()
            .map(|p| p.starts_with("shopify_") == (next.platform == Platform::Shopify));
        if platform_of_row == Some(false) {
            continue;
        }
        perm_findings::Entity::update_many()
            .col_expr(perm_findings::Column::ResolvedAt, Expr::value(now_ms))
            .filter(perm_findings::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
            .filter(perm_findings::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        n_resolved += 1;
        audit_chain::record(
            &txn,
            ctx,
            "permission_finding.resolved",
            Subject::new("permission_finding", row.id.to_string()),
            serde_json::json!({"key": row.finding_key, "run": run_id.to_string()}),
        )
        .await?;
    }

    perm_audit_snapshots::Entity::insert(perm_audit_snapshots::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        run_id: Set(run_id),
        platform: Set(platform.into()),
        snapshot: Set(serde_json::to_string(&next)?),
        changes: Set(serde_json::to_string(&changes)?),
        created_at: Set(now_ms),
    })
    .exec_without_returning(&txn)
    .await?;
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    perm_audit_runs::Entity::update_many()
        .col_expr(
            perm_audit_runs::Column::Status,
            Expr::value(perm_audit_runs::Status::Succeeded),
        )
        .col_expr(perm_audit_runs::Column::FinishedAt, Expr::value(now_ms))
        .col_expr(
            perm_audit_runs::Column::Complete,
            Expr::value(next.complete),
        )
        .col_expr(
            perm_audit_runs::Column::Principals,
            Expr::value(count(next.principals.len())),
        )
        .col_expr(
            perm_audit_runs::Column::Changes,
            Expr::value(count(changes.len())),
        )
        .col_expr(
            perm_audit_runs::Column::FindingsActive,
            Expr::value(count(findings.len())),
        )
        .col_expr(perm_audit_runs::Column::FindingsNew, Expr::value(n_new))
        .col_expr(
            perm_audit_runs::Column::FindingsResolved,
            Expr::value(n_resolved),
        )
        .col_expr(
            perm_audit_runs::Column::Notice,
            Expr::value(collected.notice),
        )
        .filter(perm_audit_runs::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(perm_audit_runs::Column::Id.eq(run_id))
        .exec(&txn)
        .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_audit.completed",
        Subject::new("permission_audit_run", run_id.to_string()),
        serde_json::json!({
            "platform": platform, "complete": next.complete,
            "principals": next.principals.len(), "changes": changes.len(),
            "findings": findings.len(), "opened": n_new, "resolved": n_resolved,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A review request.
#[derive(Clone, Debug)]
pub struct ReviewInput {
    /// `acknowledge`, `accept_risk` or `mark_for_revocation`.
    pub decision: String,
    /// Why; required to accept a risk.
    pub justification: Option<String>,
    /// Expiry of an accepted risk (Unix ms); required to accept a risk, at most
    /// [`MAX_ACCEPT_DAYS`] ahead.
    pub expires_at_ms: Option<i64>,
}

/// Records a review decision on an unresolved finding (owner, admin, analyst).
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn review(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    finding_id: Uuid,
    input: ReviewInput,
    now_ms: i64,
) -> Result<ReviewView, AuditsError> {
    if !ctx.role().can_review() {
        return Err(AuditsError::Forbidden);
    }
    let justification = input
        .justification
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty())
        .map(str::to_owned);
    if justification
        .as_ref()
        .is_some_and(|j| j.chars().count() > MAX_JUSTIFICATION)
    {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidJustification,
                format!("the justification is longer than {MAX_JUSTIFICATION} characters"),
            ),
        ));
    }
    let txn = begin_write(db).await?;
    let row = scoped::<perm_findings::Entity>(ctx)
        .filter(perm_findings::Column::Id.eq(finding_id))
        .one(&txn)
        .await?
        .ok_or(AuditsError::NotFound)?;
    if row.resolved_at.is_some() {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::FindingNotReviewable,
                "this finding is resolved: the latest audit no longer produces it",
            ),
        ));
    }
    let grants = grants_of(&row.grants);
    let (decision, expires_at, ticket) = match input.decision.as_str() {
        "acknowledge" => {
            if input.expires_at_ms.is_some() {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "only an accepted risk has an expiry",
                    ),
                ));
            }
            (Decision::Acknowledge, None, None)
        }
        "accept_risk" => {
            let Some(justification) = justification.clone() else {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidJustification,
                        "accepting a risk needs a justification",
                    ),
                ));
            };
            let Some(until) = input.expires_at_ms else {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "accepting a risk needs an expiry date",
                    ),
                ));
            };
            if until <= now_ms {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "the expiry must be in the future",
                    ),
                ));
            }
            if until > now_ms + MAX_ACCEPT_DAYS * DAY_MS {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        format!("a risk can be accepted for at most {MAX_ACCEPT_DAYS} days"),
                    ),
                ));
            }
            (
                Decision::AcceptRisk {
                    justification,
                    until_ms: until,
                    grants_hash: model::grants_hash(&grants),
                },
                Some(until),
                None,
            )
        }
        "mark_for_revocation" => {
            if input.expires_at_ms.is_some() {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::InvalidExpiry,
                        "only an accepted risk has an expiry",
                    ),
                ));
            }
            if row.principal.is_none() {
                return Err(AuditsError::Invalid(
                    crate::invalid_input::InvalidInput::new(
                        crate::invalid_input::Reason::FindingNotReviewable,
                        "this finding concerns no app, integration or user to revoke",
                    ),
                ));
            }
            (
                Decision::MarkForRevocation,
                None,
                Some(perm_reviews::TicketStatus::Pending),
            )
        }
        _ => {
            return Err(AuditsError::Invalid(
                crate::invalid_input::InvalidInput::new(
                    crate::invalid_input::Reason::InvalidDecision,
                    "decision must be acknowledge, accept_risk or mark_for_revocation",
                ),
            ));
        }
    };
    let review_id = Uuid::now_v7();
    let grants_hash = match &decision {
        Decision::AcceptRisk { grants_hash, .. } => Some(grants_hash.clone()),
        _ => None,
    };
    perm_findings::Entity::update_many()
        .col_expr(
            perm_findings::Column::Decision,
            Expr::value(serde_json::to_string(&decision)?),
        )
        .col_expr(perm_findings::Column::DecidedAt, Expr::value(now_ms))
        .filter(perm_findings::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(perm_findings::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let model = perm_reviews::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(review_id),
        finding_id: Set(row.id),
        finding_key: Set(row.finding_key.clone()),
        decision: Set(match &decision {
            Decision::Acknowledge => perm_reviews::Decision::Acknowledge,
            Decision::AcceptRisk { .. } => perm_reviews::Decision::AcceptRisk,
            Decision::MarkForRevocation => perm_reviews::Decision::MarkForRevocation,
        }),
        justification: Set(justification.clone()),
        expires_at: Set(expires_at),
        grants_hash: Set(grants_hash),
        grants: Set(row.grants.clone()),
        user_id: Set(ctx.user_id().map(|u| u.as_uuid())),
        actor: Set(format!("{}:{}", ctx.actor().kind, ctx.actor().id)),
        created_at: Set(now_ms),
        ticket_status: Set(ticket),
    };
    perm_reviews::Entity::insert(model)
        .exec_without_returning(&txn)
        .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_finding.reviewed",
        Subject::new("permission_finding", row.id.to_string()),
        serde_json::json!({
            "key": row.finding_key, "decision": input.decision, "justification": justification,
            "expires_at": expires_at, "grants": grants, "review": review_id.to_string(),
        }),
    )
    .await?;
    let saved = scoped::<perm_reviews::Entity>(ctx)
        .filter(perm_reviews::Column::Id.eq(review_id))
        .one(&txn)
        .await?
        .ok_or(AuditsError::NotFound)?;
    txn.commit().await?;
    Ok(saved.into())
}

async fn with_names(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    mut reviews: Vec<ReviewView>,
) -> Result<Vec<ReviewView>, AuditsError> {
    if reviews.is_empty() {
        return Ok(reviews);
    }
    let names: BTreeMap<Uuid, String> = crate::tenants::list_users(db, ctx)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    for r in &mut reviews {
        if let Some(name) = r.user_id.and_then(|u| names.get(&u)) {
            r.actor_name = name.clone();
        }
    }
    Ok(reviews)
}

/// Runs the audit of the context's tenant with its platform's source ("run now"; owner,
/// admin, analyst).
pub async fn run_for_tenant(
    sources: &AuditSources,
    ctx: &TenantCtx,
    trigger: Trigger,
    now_ms: i64,
) -> Result<RunView, AuditsError> {
    if !ctx.role().can_review() {
        return Err(AuditsError::Forbidden);
    }
    let db = &sources.shopify.db;
    let tenant = tenant_of(db, ctx).await?;
    let source = sources::for_tenant(sources, ctx, &tenant, now_ms).await?;
    run_now(db, ctx, &source, trigger, now_ms).await
}

/// Which findings to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingFilter {
    /// Not resolved (default).
    Active,
    /// Needs review: not resolved and open (incl. expired or outgrown accepted risks).
    Open,
    /// Resolved.
    Resolved,
    /// Everything.
    All,
}

impl FindingFilter {
    /// Parses the query value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

fn severity_rank(s: &str) -> u8 {
    match Level::parse(s) {
        Some(Level::Critical) => 0,
        Some(Level::High) => 1,
        Some(Level::Medium) => 2,
        Some(Level::Low) => 3,
        _ => 4,
    }
}

/// Findings, most severe first.
pub async fn list_findings(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    filter: FindingFilter,
    now_ms: i64,
) -> Result<Vec<FindingView>, AuditsError> {
    let mut query = scoped::<perm_findings::Entity>(ctx);
    query = match filter {
        FindingFilter::Active | FindingFilter::Open => {
            query.filter(perm_findings::Column::ResolvedAt.is_null())
        }
        FindingFilter::Resolved => query.filter(perm_findings::Column::ResolvedAt.is_not_null()),
        FindingFilter::All => query,
    };
    let mut out: Vec<FindingView> = query
        .all(db)
        .await?
        .into_iter()
        .map(|row| finding_view(row, now_ms))
        .filter(|f| filter != FindingFilter::Open || f.state == "open")
        .collect();
    out.sort_by(|a, b| {
        severity_rank(&a.severity)
            .cmp(&severity_rank(&b.severity))
            .then(a.key.cmp(&b.key))
    });
    Ok(out)
}

/// A finding with its review history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FindingDetail {
    /// The finding.
    pub finding: FindingView,
    /// Its reviews, newest first.
    pub reviews: Vec<ReviewView>,
}

/// One finding with its history.
pub async fn get_finding(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    now_ms: i64,
) -> Result<FindingDetail, AuditsError> {
    let row = scoped::<perm_findings::Entity>(ctx)
        .filter(perm_findings::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(AuditsError::NotFound)?;
    let reviews = scoped::<perm_reviews::Entity>(ctx)
        .filter(perm_reviews::Column::FindingId.eq(id))
        .order_by_desc(perm_reviews::Column::CreatedAt)
        .order_by_desc(perm_reviews::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(ReviewView::from)
        .collect();
    let reviews = with_names(db, ctx, reviews).await?;
    Ok(FindingDetail {
        finding: finding_view(row, now_ms),
        reviews,
    })
}

/// The review history, newest first; `pending_revocations` keeps only revocations no
/// ticketing step has picked up.
pub async fn list_reviews(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    pending_revocations: bool,
    limit: u64,
) -> Result<Vec<ReviewView>, AuditsError> {
    let mut query = scoped::<perm_reviews::Entity>(ctx);
    if pending_revocations {
        query = query
            .filter(perm_reviews::Column::TicketStatus.eq(perm_reviews::TicketStatus::Pending));
    }
    let reviews = query
        .order_by_desc(perm_reviews::Column::CreatedAt)
        .order_by_desc(perm_reviews::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(ReviewView::from)
        .collect();
    with_names(db, ctx, reviews).await
}

/// Runs, newest first.
pub async fn list_runs(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    limit: u64,
) -> Result<Vec<RunView>, AuditsError> {
    Ok(scoped::<perm_audit_runs::Entity>(ctx)
        .order_by_desc(perm_audit_runs::Column::StartedAt)
        .order_by_desc(perm_audit_runs::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(RunView::from)
        .collect())
}

/// One change, with names for display.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    /// `added`, `removed`, `escalated` or `reduced`.
    pub change: String,
    /// Principal key.
    pub principal: String,
    /// Principal name (from the snapshot that still has it).
    pub principal_name: String,
    /// The grants added, removed or held.
    pub grants: Vec<String>,
    /// The highest risk among those grants.
    pub level: String,
}

fn change_views(
    changes: &[Change],
    next: &Snapshot,
    prev_names: &BTreeMap<String, String>,
) -> Vec<ChangeView> {
    let platform = next.platform;
    let name = |key: &str| {
        next.principals
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.name.clone())
            .or_else(|| prev_names.get(key).cloned())
            .unwrap_or_else(|| key.to_owned())
    };
    let level = |grants: &BTreeSet<String>| {
        grants
            .iter()
            .map(|g| model::grant_risk(platform, g).level)
            .max()
            .unwrap_or(Level::None)
            .as_str()
            .to_owned()
    };
    changes
        .iter()
        .map(|c| match c {
            Change::Added { principal, grants } => ChangeView {
                change: "added".into(),
                principal_name: name(principal),
                principal: principal.clone(),
                grants: grants.iter().cloned().collect(),
                level: level(grants),
            },
            Change::Removed { principal } => ChangeView {
                change: "removed".into(),
                principal_name: name(principal),
                principal: principal.clone(),
                grants: Vec::new(),
                level: "none".into(),
            },
            Change::Escalated { principal, added } => ChangeView {
                change: "escalated".into(),
                principal_name: name(principal),
                principal: principal.clone(),
                grants: added.iter().cloned().collect(),
                level: level(added),
            },
            Change::Reduced { principal, removed } => ChangeView {
                change: "reduced".into(),
                principal_name: name(principal),
                principal: principal.clone(),
                grants: removed.iter().cloned().collect(),
                level: level(removed),
            },
        })
        .collect()
}

/// A run with what changed since the run before it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    /// The run.
    pub run: RunView,
    /// Its changes (empty for a failed run).
    pub changes: Vec<ChangeView>,
}

/// One run with its changes.
pub async fn get_run(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<RunDetail, AuditsError> {
    let run = load_run(db, ctx, id).await?;
    let changes = match scoped::<perm_audit_snapshots::Entity>(ctx)
        .filter(perm_audit_snapshots::Column::RunId.eq(id))
        .one(db)
        .await?
    {
        Some(snap) => snapshot_changes(db, ctx, &snap).await?,
        None => Vec::new(),
    };
    Ok(RunDetail {
        run: run.into(),
        changes,
    })
}

async fn snapshot_changes(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    snap: &perm_audit_snapshots::Model,
) -> Result<Vec<ChangeView>, AuditsError> {
    let next: Snapshot = serde_json::from_str(&snap.snapshot)?;
    let changes: Vec<Change> = serde_json::from_str(&snap.changes)?;
    let needs_prev = changes.iter().any(|c| matches!(c, Change::Removed { .. }));
    let mut prev_names = BTreeMap::new();
    if needs_prev
        && let Some(prev) = scoped::<perm_audit_snapshots::Entity>(ctx)
            .filter(perm_audit_snapshots::Column::Platform.eq(snap.platform.clone()))
            .filter(perm_audit_snapshots::Column::CreatedAt.lte(snap.created_at))
            .filter(perm_audit_snapshots::Column::RunId.ne(snap.run_id))
            .order_by_desc(perm_audit_snapshots::Column::CreatedAt)
            .order_by_desc(perm_audit_snapshots::Column::RunId)
            .one(db)
            .await?
    {
        let prev: Snapshot = serde_json::from_str(&prev.snapshot)?;
        prev_names = prev
            .principals
            .into_iter()
            .map(|p| (p.key, p.name))
            .collect();
    }
    Ok(change_views(&changes, &next, &prev_names))
}

/// Changes between consecutive runs, newest first.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunChanges {
    /// The run.
    pub run_id: Uuid,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// Whether the run saw everything.
    pub complete: bool,
    /// Its changes.
    pub changes: Vec<ChangeView>,
}

/// The changes of the last `limit` runs that produced a snapshot.
pub async fn changes_over_time(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    limit: u64,
) -> Result<Vec<RunChanges>, AuditsError> {
    let snaps = scoped::<perm_audit_snapshots::Entity>(ctx)
        .order_by_desc(perm_audit_snapshots::Column::CreatedAt)
        .order_by_desc(perm_audit_snapshots::Column::RunId)
        .limit(limit)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(snaps.len());
    for snap in &snaps {
        let parsed: Snapshot = serde_json::from_str(&snap.snapshot)?;
        out.push(RunChanges {
            run_id: snap.run_id,
            at: snap.created_at,
            complete: parsed.complete,
            changes: snapshot_changes(db, ctx, snap).await?,
        });
    }
    Ok(out)
}

/// One grant with its risk.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    /// Scope or ACL resource.
    pub grant: String,
    /// Risk level.
    pub level: String,
    /// Reaches personal data.
    pub personal_data: bool,
    /// Reaches payment data.
    pub payment_data: bool,
    /// Why, in a sentence.
    pub reason: String,
}

/// A principal of the latest snapshot.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PrincipalView {
    /// Stable key.
    pub key: String,
    /// `app`, `own_app`, `integration`, `admin_user`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Highest risk.
    pub level: String,
    /// Grants, riskiest first.
    pub grants: Vec<GrantView>,
    /// Facts (status, last login …).
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Active findings about it.
    pub findings: usize,
}

/// The latest snapshot's principals with their risk.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PrincipalsView {
    /// The run that took the snapshot.
    pub run: Option<RunView>,
    /// Whether it saw everything.
    pub complete: bool,
    /// Principals, riskiest first.
    pub principals: Vec<PrincipalView>,
}

/// The principals of the latest snapshot (any platform).
pub async fn principals(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
) -> Result<PrincipalsView, AuditsError> {
    let Some(snap) = scoped::<perm_audit_snapshots::Entity>(ctx)
        .order_by_desc(perm_audit_snapshots::Column::CreatedAt)
        .order_by_desc(perm_audit_snapshots::Column::RunId)
        .one(db)
        .await?
    else {
        return Ok(PrincipalsView {
            run: None,
            complete: false,
            principals: Vec::new(),
        });
    };
    let run = load_run(db, ctx, snap.run_id).await?;
    let snapshot: Snapshot = serde_json::from_str(&snap.snapshot)?;
    let active = scoped::<perm_findings::Entity>(ctx)
        .filter(perm_findings::Column::ResolvedAt.is_null())
        .all(db)
        .await?;
    let mut per_principal: BTreeMap<String, usize> = BTreeMap::new();
    for f in &active {
        if let Some(p) = &f.principal {
            *per_principal.entry(p.clone()).or_default() += 1;
        }
    }
    let platform = snapshot.platform;
    let mut out: Vec<PrincipalView> = snapshot
        .principals
        .iter()
        .map(|p| {
            let mut grants: Vec<GrantView> = p
                .grants
                .iter()
                .map(|g| {
                    let r = model::grant_risk(platform, g);
                    GrantView {
                        grant: g.clone(),
                        level: r.level.as_str().into(),
                        personal_data: r.personal_data,
                        payment_data: r.payment_data,
                        reason: r.reason.into(),
                    }
                })
                .collect();
            grants.sort_by(|a, b| {
                severity_rank(&a.level)
                    .cmp(&severity_rank(&b.level))
                    .then(a.grant.cmp(&b.grant))
            });
            PrincipalView {
                key: p.key.clone(),
                kind: serde_json::to_value(p.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                name: p.name.clone(),
                level: model::principal_level(platform, p).as_str().into(),
                grants,
                attributes: p.attributes.clone(),
                findings: per_principal.get(&p.key).copied().unwrap_or(0),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        severity_rank(&a.level)
            .cmp(&severity_rank(&b.level))
            .then(a.name.cmp(&b.name))
    });
    Ok(PrincipalsView {
        run: Some(run.into()),
        complete: snapshot.complete,
        principals: out,
    })
}

/// The permission report: principals, grants, risk and findings (export).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Format id.
    pub format: &'static str,
    /// The tenant.
    pub tenant_id: Uuid,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: i64,
    /// Latest snapshot's run.
    pub run: Option<RunView>,
    /// Whether it saw everything.
    pub complete: bool,
    /// Principals.
    pub principals: Vec<PrincipalView>,
    /// Active findings.
    pub findings: Vec<FindingView>,
}

/// Builds the report.
pub async fn report(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    now_ms: i64,
) -> Result<Report, AuditsError> {
    let p = principals(db, ctx).await?;
    Ok(Report {
        format: "leakguard-permission-report/v1",
        tenant_id: ctx.tenant_id().as_uuid(),
        generated_at: now_ms,
        run: p.run,
        complete: p.complete,
        principals: p.principals,
        findings: list_findings(db, ctx, FindingFilter::Active, now_ms).await?,
    })
}

fn csv_field(s: &str) -> String {
    // Quote every field; neutralise spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The report as CSV: one line per principal and grant (a principal without grants gets one
/// line with an empty grant).
pub fn report_csv(report: &Report) -> String {
    let mut out = String::from(
        "principal_key,principal_kind,principal_name,principal_level,grant,grant_level,personal_data,payment_data,reason,active_findings\r\n",
    );
    for p in &report.principals {
        let rows: Vec<Option<&GrantView>> = if p.grants.is_empty() {
            vec![None]
        } else {
            p.grants.iter().map(Some).collect()
        };
        for g in rows {
            let fields = [
                p.key.clone(),
                p.kind.clone(),
                p.name.clone(),
                p.level.clone(),
                g.map(|g| g.grant.clone()).unwrap_or_default(),
                g.map(|g| g.level.clone()).unwrap_or_default(),
                g.map(|g| g.personal_data.to_string()).unwrap_or_default(),
                g.map(|g| g.payment_data.to_string()).unwrap_or_default(),
                g.map(|g| g.reason.clone()).unwrap_or_default(),
                p.findings.to_string(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// A tenant's schedule.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    /// Cron (six fields, seconds first, UTC).
    pub cron: String,
    /// Whether scheduled runs happen.
    pub enabled: bool,
    /// True when the tenant never set one (the server default applies).
    pub default: bool,
    /// The next scheduled run, Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_run_at: Option<i64>,
}

/// The tenant's schedule, or the default.
pub async fn get_schedule<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    default_cron: &str,
    now_ms: i64,
) -> Result<ScheduleView, AuditsError> {
    let row = scoped::<perm_audit_schedules::Entity>(ctx).one(db).await?;
    let (cron, enabled, default) = match row {
        Some(r) => (r.cron, r.enabled, false),
        None => (default_cron.to_owned(), true, true),
    };
    let next_run_at = if enabled {
        schedule::next_slot(&cron, now_ms)
    } else {
        None
    };
    Ok(ScheduleView {
        cron,
        enabled,
        default,
        next_run_at,
    })
}

/// Sets the tenant's schedule (admins).
pub async fn put_schedule(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    cron: &str,
    enabled: bool,
    now_ms: i64,
) -> Result<ScheduleView, AuditsError> {
    if !ctx.role().can_administer() {
        return Err(AuditsError::Forbidden);
    }
    let cron = cron.trim();
    schedule::parse(cron).map_err(|m| {
        AuditsError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidCron,
            m,
        ))
    })?;
    let txn = begin_write(db).await?;
    perm_audit_schedules::Entity::delete_many()
        .filter(perm_audit_schedules::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .exec(&txn)
        .await?;
    perm_audit_schedules::Entity::insert(perm_audit_schedules::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        cron: Set(cron.to_owned()),
        enabled: Set(enabled),
        updated_at: Set(now_ms),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_schedule.updated",
        Subject::new("permission_schedule", ctx.tenant_id().to_string()),
        serde_json::json!({"cron": cron, "enabled": enabled}),
    )
    .await?;
    let view = get_schedule(&txn, ctx, cron, now_ms).await?;
    txn.commit().await?;
    Ok(view)
}

/// The tenant row of the context (platform and address), for choosing a source.
pub async fn tenant_of(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
) -> Result<tenants::Model, AuditsError> {
    tenants::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(db)
        .await?
        .ok_or(AuditsError::NotFound)
}

/// Counts for the overview page.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// Latest run.
    pub last_run: Option<RunView>,
    /// Active findings per severity.
    pub by_severity: BTreeMap<String, usize>,
    /// Active findings per state.
    pub by_state: BTreeMap<String, usize>,
    /// Principals in the latest snapshot.
    pub principals: usize,
    /// Principals reaching personal data (level ≥ high).
    pub high_risk_principals: usize,
    /// The most severe open findings.
    pub top_open: Vec<FindingView>,
}

/// The overview.
pub async fn overview(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    now_ms: i64,
) -> Result<Overview, AuditsError> {
    let last_run = list_runs(db, ctx, 1).await?.into_iter().next();
    let findings = list_findings(db, ctx, FindingFilter::Active, now_ms).await?;
    let mut by_severity = BTreeMap::new();
    let mut by_state = BTreeMap::new();
    for f in &findings {
        *by_severity.entry(f.severity.clone()).or_default() += 1;
        *by_state.entry(f.state.clone()).or_default() += 1;
    }
    let p = principals(db, ctx).await?;
    let high = p
        .principals
        .iter()
        .filter(|p| severity_rank(&p.level) <= 1)
        .count();
    Ok(Overview {
        last_run,
        by_severity,
        by_state,
        principals: p.principals.len(),
        high_risk_principals: high,
        top_open: findings
            .into_iter()
            .filter(|f| f.state == "open")
            .take(5)
            .collect(),
    })
}
