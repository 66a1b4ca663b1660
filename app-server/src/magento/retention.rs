//! Retention on Magento: the policy the module executes (`GET /api/v1/magento/retention-policy`)
//! and the evidence it reports back (`POST /api/v1/magento/retention-reports`).
//!
//! The policy is the tenant's versioned retention policy (`crate::retention`), served in the
//! module's format (`{"version", "classes": [{"class", "max_age_days", "anchor", "action",
//! "allow_keys"?}]}`, see the module's `Policy`).
//! A report is stored once per `run_id` with an audit entry; alerts it carries (an encrypted
//! card number or CVV still stored) become `findings` rows.
//! Each class of a real (not dry-run) report also becomes a `retention_runs` row with
//! `source = "magento"`, so the run history lists the module's runs next to the own-store ones.

use leakguard_domain::audit::Subject;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{MagentoError, rfc3339_ms};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{findings, retention_reports, retention_runs};
use crate::tenancy::{TenantCtx, scoped};

/// The tenant's current policy (`crate::retention`, versioned; the default until an admin
/// saves one) in the module's form: only the classes the module enforces.
pub async fn policy(db: &DatabaseConnection, ctx: &TenantCtx) -> Result<Value, MagentoError> {
    let policy = crate::retention::current_policy(db, ctx)
        .await
        .map_err(|e| MagentoError::Unexpected(anyhow::anyhow!("{e}")))?;
    Ok(policy.to_module_json())
}

/// One alert of a class run.
#[derive(Debug, Deserialize)]
struct Alert {
    code: String,
    rows: i64,
}

/// One class of a report (only the fields the server reads; the whole report is stored).
#[derive(Debug, Deserialize)]
struct ClassReport {
    class: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    rows_affected: Option<i64>,
    #[serde(default)]
    alerts: Vec<Alert>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    cutoff: Option<String>,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    finished_at: Option<String>,
    #[serde(default)]
    affected_ids_sha256: Option<String>,
    #[serde(default)]
    last_affected_id: Option<i64>,
    #[serde(default)]
    batches: Option<i64>,
    #[serde(default)]
    max_transaction_ms: Option<i64>,
    #[serde(default)]
    max_age_days: Option<i64>,
    #[serde(default)]
    anchor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    undecodable: Option<i64>,
    #[serde(default)]
    resumed: Option<bool>,
    #[serde(default)]
    class_run_id: Option<String>,
}

/// The report (the module's `Executor::run` output plus `module_version`).
#[derive(Debug, Deserialize)]
struct Report {
    run_id: String,
    policy_version: i64,
    #[serde(default)]
    policy_sha256: String,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    finished_at: Option<String>,
    classes: Vec<ClassReport>,
}

/// Outcome of a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportAck {
    /// The stored report.
    pub id: Uuid,
    /// True when a report with this run id was stored before.
    pub duplicate: bool,
    /// Findings opened from the report's alerts.
    pub findings: u64,
}

fn severity(code: &str) -> findings::Severity {
    match code {
        "cc_number_enc_present" | "cc_cid_enc_present" => findings::Severity::High,
        _ => findings::Severity::Medium,
    }
}

fn title(code: &str, class: &str) -> String {
    match code {
        "cc_number_enc_present" => format!("Encrypted card numbers are stored ({class})"),
        "cc_cid_enc_present" => format!("Card security codes are stored ({class})"),
        other => format!("Retention alert {other} ({class})"),
    }
}

/// A module class run as a `retention_runs` row (`source = "magento"`), so the run history lists
/// it next to the own-store runs. Complete classes carry the module's evidence (cut-off, count,
/// id hash, batches); other statuses (`unsupported`) keep the module's reason in `error`.
fn class_run(
    ctx: &TenantCtx,
    row_id: Uuid,
    report_id: Uuid,
    run_id: &str,
    report: &Report,
    class: &ClassReport,
    now_ms: i64,
) -> retention_runs::ActiveModel {
    let status = class.status.as_deref().unwrap_or("unknown");
    let status: String = status.chars().take(16).collect();
    let hash = class
        .affected_ids_sha256
        .as_deref()
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| {
            leakguard_domain::retention::IdChain::default()
                .hex()
                .to_owned()
        });
    let started = class
        .started_at
        .as_deref()
        .and_then(rfc3339_ms)
        .or(report.started_at.as_deref().and_then(rfc3339_ms))
        .unwrap_or(now_ms);
    let finished = class
        .finished_at
        .as_deref()
        .and_then(rfc3339_ms)
        .or(report.finished_at.as_deref().and_then(rfc3339_ms));
    let alerts: Vec<Value> = class
        .alerts
        .iter()
        .map(|a| serde_json::json!({"code": a.code, "rows": a.rows}))
        .collect();
    let details = serde_json::json!({
        "retention_report": report_id.to_string(),
        "run_id": run_id,
        "class_run_id": class.class_run_id,
        "table": class.table,
        "action": class.action,
        "anchor": class.anchor,
        "max_age_days": class.max_age_days,
        "resumed": class.resumed,
        "undecodable": class.undecodable,
        "alerts": alerts,
    });
    retention_runs::ActiveModel {
        id: Set(row_id),
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        class: Set(class.class.clone()),
        source: Set(retention_runs::Source::Magento),
        status: Set(status),
        policy_version: Set(i32::try_from(report.policy_version).unwrap_or(i32::MAX)),
        cutoff: Set(class.cutoff.as_deref().and_then(rfc3339_ms).unwrap_or(0)),
        started_at: Set(started),
        finished_at: Set(finished),
        last_key: Set(class.last_affected_id.map(|k| k.to_string())),
        rows_affected: Set(class.rows_affected.unwrap_or(0).max(0)),
        ids_hash: Set(hash),
        first_affected_at: Set(None),
        last_affected_at: Set(None),
        batches: Set(class
            .batches
            .and_then(|b| i32::try_from(b).ok())
            .unwrap_or(0)),
        max_batch_ms: Set(class.max_transaction_ms.unwrap_or(0).max(0)),
        error: Set(class
            .reason
            .as_deref()
            .map(|r| r.chars().take(500).collect())),
        report: Set(Some(details.to_string())),
    }
}

/// Validates and stores a report, opening a finding per alert.
pub async fn store_report(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    body: &[u8],
    now_ms: i64,
) -> Result<ReportAck, MagentoError> {
    let report: Report = serde_json::from_slice(body).map_err(|e| {
        MagentoError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidJson,
            super::json_error("invalid retention report", &e),
        ))
    })?;
    let run_id = report.run_id.trim();
    if run_id.is_empty() || run_id.len() > 64 || !run_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(MagentoError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidModuleDocument,
                "run_id must be 1 to 64 printable characters",
            ),
        ));
    }
    let sha_ok = report.policy_sha256.is_empty()
        || (report.policy_sha256.len() == 64
            && report.policy_sha256.bytes().all(|b| b.is_ascii_hexdigit()));
    if !sha_ok || report.policy_version < 0 {
        return Err(MagentoError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidModuleDocument,
                "policy_version must be >= 0 and policy_sha256 64 hex characters",
            ),
        ));
    }
    if report.classes.len() > 64
        || report
            .classes
            .iter()
            .any(|c| c.class.is_empty() || c.class.len() > 64 || c.alerts.len() > 64)
    {
        return Err(MagentoError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidModuleDocument,
                "classes must be at most 64 entries with a class name and at most 64 alerts",
            ),
        ));
    }
    let rows_affected: i64 = report
        .classes
        .iter()
        .filter_map(|c| c.rows_affected)
        .map(|n| n.max(0))
        .fold(0i64, i64::saturating_add);
    let alerts: Vec<(&ClassReport, &Alert)> = report
        .classes
        .iter()
        .flat_map(|c| c.alerts.iter().map(move |a| (c, a)))
        .filter(|(_, a)| a.rows > 0 && !a.code.is_empty() && a.code.len() <= 64)
        .collect();
    let txn = begin_write(db).await?;
    if let Some(existing) = scoped::<retention_reports::Entity>(ctx)
        .filter(retention_reports::Column::RunId.eq(run_id))
        .one(&txn)
        .await?
    {
        return Ok(ReportAck {
            id: existing.id,
            duplicate: true,
            findings: 0,
        });
    }
    let id = Uuid::now_v7();
    retention_reports::Entity::insert(retention_reports::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(id),
        run_id: Set(run_id.to_owned()),
        policy_version: Set(report.policy_version),
        policy_sha256: Set(report.policy_sha256.to_ascii_lowercase()),
        dry_run: Set(report.dry_run),
        started_at: Set(report.started_at.as_deref().and_then(rfc3339_ms)),
        finished_at: Set(report.finished_at.as_deref().and_then(rfc3339_ms)),
        received_at: Set(now_ms),
        rows_affected: Set(rows_affected),
        alerts: Set(i32::try_from(alerts.len()).unwrap_or(i32::MAX)),
        report: Set(String::from_utf8_lossy(body).into_owned()),
    })
    .exec_without_returning(&txn)
    .await?;
    let mut runs = Vec::new();
    if !report.dry_run {
        for class in &report.classes {
            let run_row = Uuid::now_v7();
            runs.push(run_row);
            retention_runs::Entity::insert(class_run(
                ctx, run_row, id, run_id, &report, class, now_ms,
            ))
            .exec_without_returning(&txn)
            .await?;
        }
    }
    let classes: Vec<Value> = report
        .classes
        .iter()
        .zip(runs.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(c, run)| {
            serde_json::json!({
                "class": c.class,
                "status": c.status,
                "rows_affected": c.rows_affected,
                "retention_run": run.map(|r| r.to_string()),
            })
        })
        .collect();
    audit_chain::record(
        &txn,
        ctx,
        "magento.retention_report.stored",
        Subject::new("retention_report", id.to_string()),
        serde_json::json!({
            "run_id": run_id,
            "policy_version": report.policy_version,
            "dry_run": report.dry_run,
            "rows_affected": rows_affected,
            "classes": classes,
        }),
    )
    .await?;
    let mut opened = 0u64;
    let recipients = crate::outbox::Recipients::load(&txn, ctx).await?;
    for (class, alert) in alerts {
        let finding_id = Uuid::now_v7();
        let inserted = findings::Entity::insert(findings::ActiveModel {
            tenant_id: Set(ctx.tenant_id().as_uuid()),
            id: Set(finding_id),
            kind: Set(findings::Kind::RetentionAlert),
            code: Set(alert.code.clone()),
            severity: Set(severity(&alert.code)),
            status: Set(findings::Status::Open),
            title: Set(title(&alert.code, &class.class)),
            details: Set(serde_json::json!({
                "class": class.class,
                "rows": alert.rows,
                "retention_report": id.to_string(),
                "run_id": run_id,
            })
            .to_string()),
            dedup_key: Set(format!("retention:{run_id}:{}:{}", class.class, alert.code)),
            created_at: Set(now_ms),
        })
        .on_conflict(
            OnConflict::columns([findings::Column::TenantId, findings::Column::DedupKey])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted == 1 {
            opened += 1;
            let severity = severity(&alert.code);
            recipients
                .enqueue(
                    &txn,
                    crate::outbox::Event {
                        event_type: crate::outbox::EventType::RetentionFindingOpened,
                        subject_kind: "finding",
                        subject_id: finding_id.to_string(),
                        severity: crate::outbox::Severity::of_level(severity.as_str()),
                        title: title(&alert.code, &class.class),
                        data: serde_json::json!({
                            "code": alert.code, "class": class.class, "rows": alert.rows,
                            "retention_report": id.to_string(),
                        }),
                        idempotency_key: format!("retention_finding.opened:{finding_id}"),
                        occurred_at: now_ms,
                    },
                )
                .await?;
            audit_chain::record(
                &txn,
                ctx,
                "finding.opened",
                Subject::new("finding", finding_id.to_string()),
                serde_json::json!({"code": alert.code, "class": class.class, "rows": alert.rows}),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(ReportAck {
        id,
        duplicate: false,
        findings: opened,
    })
}
