//! Scheduled permission audits. One job, `permission_audits`, ticks under a database lease
//! (`jobs::run_leased`); at each tick every active tenant whose schedule (cron, UTC, default
//! daily) has a due slot it has not claimed yet gets one run. Slots are claimed in `job_runs`
//! (`permission_audit:<tenant>` + the slot time), so a slot runs once across replicas and a
//! tick that was missed is caught up once, not once per missed slot. A tenant reads and sets
//! its own schedule here too (admins set it).

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use leakguard_domain::audit::Subject;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use super::views::ScheduleView;
use super::{AuditSources, AuditsError, Trigger};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{job_runs, perm_audit_runs, perm_audit_schedules, tenants};
use crate::tenancy::{TenantCtx, scoped};
use leakguard_domain::ids::TenantId;

/// Parses a six-field cron expression (seconds first), as the scheduler does.
pub fn parse(expr: &str) -> Result<Cron, String> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .build()
        .parse(expr)
        .map_err(|e| format!("not a cron expression (six fields, seconds first, UTC): {e}"))
}

fn at(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms)
}

/// The latest slot at or before `now_ms`.
pub fn latest_slot(expr: &str, now_ms: i64) -> Option<i64> {
    let cron = parse(expr).ok()?;
    cron.find_previous_occurrence(&at(now_ms)?, true)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The next slot after `now_ms`.
pub fn next_slot(expr: &str, now_ms: i64) -> Option<i64> {
    let cron = parse(expr).ok()?;
    cron.find_next_occurrence(&at(now_ms)?, false)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// What the scheduled audits use: the sources, this process's lease owner id and the schedule
/// of tenants that have not set their own.
#[derive(Clone)]
pub struct ScheduledAudits {
    /// How platforms are read.
    pub sources: AuditSources,
    /// Owner id written on claimed slots.
    pub instance_id: String,
    /// `jobs.permission_audit_default_schedule`.
    pub default_schedule: String,
}

/// Job: runs the permission audit of every tenant with a due, unclaimed slot. Returns how many
/// runs were made. Tests call it with the time they want.
pub async fn permission_audit_job(audits: &ScheduledAudits, now_ms: i64) -> anyhow::Result<usize> {
    let db = &audits.sources.shopify.db;
    let default_cron = audits.default_schedule.as_str();
    let active = tenants::Entity::find()
        .filter(tenants::Column::Status.eq(tenants::Status::Active))
        .all(db)
        .await?;
    let mut ran = 0;
    for tenant in active {
        let ctx = TenantCtx::system(TenantId(tenant.id), "permission_audit_scheduler");
        let schedule = scoped::<perm_audit_schedules::Entity>(&ctx).one(db).await?;
        let (cron, enabled) = match &schedule {
            Some(s) => (s.cron.as_str(), s.enabled),
            None => (default_cron, true),
        };
        if !enabled {
            continue;
        }
        let Some(slot) = latest_slot(cron, now_ms) else {
            continue;
        };
        let job = format!("permission_audit:{}", tenant.id);
        if !crate::jobs::claim_slot(db, &job, slot, &audits.instance_id).await? {
            continue;
        }
        let outcome = match super::sources::for_tenant(&audits.sources, &ctx, &tenant, now_ms).await
        {
            Ok(source) => super::run_now(db, &ctx, &source, Trigger::Schedule, now_ms)
                .await
                .map(|run| match run.status {
                    perm_audit_runs::Status::Running => job_runs::Status::Running,
                    perm_audit_runs::Status::Succeeded => job_runs::Status::Succeeded,
                    perm_audit_runs::Status::Failed => job_runs::Status::Failed,
                }),
            Err(e) => Err(e),
        };
        let (status, detail) = match outcome {
            Ok(status) => (status, None),
            Err(e) => {
                tracing::warn!(tenant_id = %tenant.id, error = format!("{e:#}"), "Scheduled permission audit failed.");
                (
                    job_runs::Status::Failed,
                    Some("see the server log".to_owned()),
                )
            }
        };
        crate::jobs::finish_slot(db, &job, slot, status, detail).await?;
        ran += 1;
    }
    Ok(ran)
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
        next_slot(&cron, now_ms)
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
    parse(cron).map_err(|m| {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_cron_in_utc() {
        // 2026-11-28 10:30:00 UTC
        let now = 1_795_861_800_000;
        let daily = "0 0 3 * * *";
        assert_eq!(latest_slot(daily, now), Some(1_795_834_800_000)); // 03:00 that day
        assert_eq!(next_slot(daily, now), Some(1_795_921_200_000)); // 03:00 next day
        assert!(parse("not cron").is_err());
        assert!(parse("0 0 3 * *").is_err(), "five fields are refused");
    }
}
