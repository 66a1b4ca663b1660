//! Starting and executing an audit run: the run record, the source read, the diff with the
//! previous snapshot, the finding upserts, and reads of past runs and their changes.

use leakguard_domain::audit::Subject;
use leakguard_domain::permissions::{self as model, Change, Platform, Snapshot};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

use super::policy::get_policy;
use super::views::{ChangeView, RunChanges, RunDetail, RunView, change_views, grants_of};
use super::{AuditSources, AuditsError, Collected, SnapshotSource, SourceError, sources};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{perm_audit_runs, perm_audit_snapshots, perm_findings, tenants};
use crate::outbox::{self, EventType};
use crate::tenancy::{TenantCtx, scoped};

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

pub(super) async fn load_run<C: ConnectionTrait>(
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
    let recipients = outbox::Recipients::load(&txn, ctx).await?;
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
                    recipients
                        .enqueue(
                            &txn,
                            finding_event(
                                if reopened {
                                    EventType::PermissionFindingReopened
                                } else {
                                    EventType::PermissionFindingChanged
                                },
                                row.id,
                                f,
                                run_id,
                                now_ms,
                            ),
                        )
                        .await?;
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
                recipients
                    .enqueue(
                        &txn,
                        finding_event(EventType::PermissionFindingOpened, id, f, run_id, now_ms),
                    )
                    .await?;
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
        recipients
            .enqueue(
                &txn,
                outbox::Event {
                    event_type: EventType::PermissionFindingResolved,
                    subject_kind: "permission_finding",
                    subject_id: row.id.to_string(),
                    severity: outbox::Severity::of_level(&row.severity),
                    title: format!("Permission finding resolved: {}", row.kind),
                    data: serde_json::json!({"kind": row.kind, "run": run_id.to_string()}),
                    idempotency_key: format!("permission_finding.resolved:{}:{run_id}", row.id),
                    occurred_at: now_ms,
                },
            )
            .await?;
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

/// The outward event of a finding opened, re-opened or changed: its kind, severity, the
/// grants' scope names and the run; never the principal's name.
fn finding_event(
    event_type: EventType,
    finding_id: Uuid,
    f: &leakguard_domain::permissions::Finding,
    run_id: Uuid,
    now_ms: i64,
) -> outbox::Event {
    outbox::Event {
        event_type,
        subject_kind: "permission_finding",
        subject_id: finding_id.to_string(),
        severity: outbox::Severity::of_level(f.severity.as_str()),
        title: format!(
            "Permission finding: {} ({})",
            f.kind.as_str(),
            f.severity.as_str()
        ),
        data: serde_json::json!({
            "kind": f.kind.as_str(), "severity": f.severity.as_str(),
            "grants": f.grants, "run": run_id.to_string(),
        }),
        idempotency_key: format!("{}:{finding_id}:{run_id}", event_type.as_str()),
        occurred_at: now_ms,
    }
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
