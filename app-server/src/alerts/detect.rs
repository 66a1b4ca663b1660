//! One detection run for one tenant: new inputs in, alerts and state out, in one transaction.
//!
//! The run locks the tenant's `detection_cursors` row, reads up to [`BATCH`] lines above the
//! high-water mark, normalizes them with the tenant's saved `Normalizer`, feeds the signals in
//! time order to the same `domain::detect::Engine` the replay CLI runs, then writes the new and
//! grown alert episodes, saves the engine state, moves the mark and deletes the processed
//! lines, with one audit entry by `system:detection`, and commits. A crash before the commit
//! leaves everything as it was; after it nothing is fed twice. Alerts are keyed by the engine's
//! episode id, so no run can insert the same alert twice.

use std::collections::{HashMap, HashSet};

use leakguard_domain::audit::Subject;
use leakguard_domain::detect::normalize::{NormalizeError, Normalizer};
use leakguard_domain::detect::{Alert, Engine, EngineState, PrincipalKey, RuleConfig, Signal};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AlertError, record_event};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{
    alert_events, alerts, detection_cursors, detection_inputs, detection_states,
};
use crate::tenancy::TenantCtx;

/// Lines one run reads at most; a tenant with more is queued again behind the others.
pub const BATCH: u64 = 2_000;
/// Ids of grown alerts named in a run's audit entry at most (the count is always there).
const AUDITED_IDS: usize = 100;
/// Tables kept per evidence item.
const EVIDENCE_TABLES: usize = 8;

/// One piece of evidence: a signal the engine counted into the alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AlertEvidence)]
pub struct Evidence {
    /// The signal's number in the tenant's detection (the engine's evidence reference).
    pub signal: u64,
    /// The input line it came from (per-tenant number).
    pub input: i64,
    /// `agent`, `magento_module` or `shopify`.
    pub source: String,
    /// The signal kind (`sql_access`, `into_outfile`, `export`, …).
    pub kind: String,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// Tables or resources (at most 8).
    pub tables: Vec<String>,
    /// Statements, requests, events or records.
    pub count: u64,
    /// Rows or records returned, when known.
    pub rows: Option<u64>,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// Input lines processed.
    pub inputs: u64,
    /// Signals fed to the engine.
    pub signals: u64,
    /// Alerts opened.
    pub opened: u64,
    /// Alerts that grew or closed.
    pub updated: u64,
    /// Lines are left for another run.
    pub more: bool,
}

/// The engine configuration of a tenant (the defaults; per-tenant tuning goes through
/// feedback, which the engine state carries).
pub fn rule_config() -> RuleConfig {
    RuleConfig::default()
}

/// The system context detection acts under.
pub fn system_ctx(tenant: Uuid) -> TenantCtx {
    TenantCtx::system(tenant.into(), "detection")
}

/// The tenant's engine and normalizer, inside `txn` (whose cursor row the caller holds).
pub(crate) async fn load_engine<C: ConnectionTrait>(
    txn: &C,
    tenant: Uuid,
) -> Result<(Engine, Normalizer, Option<detection_states::Model>), AlertError> {
    let saved = detection_states::Entity::find_by_id(tenant)
        .one(txn)
        .await?;
    let (engine, normalizer) = match &saved {
        Some(row) => {
            let engine = match serde_json::from_str::<EngineState>(&row.engine) {
                Ok(state) => Engine::from_state(rule_config(), state),
                Err(e) => {
                    tracing::error!(tenant_id = %tenant, error = %e, "Saved detection state is unreadable; detection starts learning again.");
                    Engine::new(rule_config())
                }
            };
            let normalizer = serde_json::from_str(&row.normalizer).unwrap_or_default();
            (engine, normalizer)
        }
        None => (Engine::new(rule_config()), Normalizer::default()),
    };
    Ok((engine, normalizer, saved))
}

/// Saves the engine and normalizer state inside `txn`.
pub(crate) async fn save_engine<C: ConnectionTrait>(
    txn: &C,
    tenant: Uuid,
    engine: &Engine,
    normalizer: &Normalizer,
    saved: Option<&detection_states::Model>,
    malformed: u64,
    now: i64,
) -> Result<(), AlertError> {
    let engine_json = serde_json::to_string(engine.state())?;
    let normalizer_json = serde_json::to_string(normalizer)?;
    let signals = i64::try_from(engine.state().counters.signals).unwrap_or(i64::MAX);
    let malformed = i64::try_from(malformed).unwrap_or(i64::MAX);
    match saved {
        Some(row) => {
            detection_states::Entity::update_many()
                .col_expr(detection_states::Column::Engine, Expr::value(engine_json))
                .col_expr(
                    detection_states::Column::Normalizer,
                    Expr::value(normalizer_json),
                )
                .col_expr(detection_states::Column::Signals, Expr::value(signals))
                .col_expr(
                    detection_states::Column::Malformed,
                    Expr::value(row.malformed.saturating_add(malformed)),
                )
                .col_expr(detection_states::Column::UpdatedAt, Expr::value(now))
                .filter(detection_states::Column::TenantId.eq(tenant))
                .exec(txn)
                .await?;
        }
        None => {
            detection_states::Entity::insert(detection_states::ActiveModel {
                tenant_id: Set(tenant),
                engine: Set(engine_json),
                normalizer: Set(normalizer_json),
                signals: Set(signals),
                malformed: Set(malformed),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    Ok(())
}

/// Locks the tenant's cursor row until the transaction ends (PostgreSQL; SQLite's single
/// writer serialises already). `None` when the tenant never had an input.
pub(crate) async fn lock_cursor<C: ConnectionTrait>(
    txn: &C,
    tenant: Uuid,
) -> Result<Option<detection_cursors::Model>, DbErr> {
    detection_cursors::Entity::find()
        .filter(detection_cursors::Column::TenantId.eq(tenant))
        .lock_exclusive()
        .one(txn)
        .await
}

/// The principal's own name or id, as the list filter matches it.
pub fn principal_name(key: &PrincipalKey) -> String {
    match key {
        PrincipalKey::Admin(id)
        | PrincipalKey::AdminName(id)
        | PrincipalKey::Integration(id)
        | PrincipalKey::ShopifyApp(id)
        | PrincipalKey::ShopifyStaff(id)
        | PrincipalKey::DbAccount(id, _)
        | PrincipalKey::Client(id) => id.chars().take(255).collect(),
        PrincipalKey::Unknown => String::new(),
    }
}

fn text_of(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn secs_to_ms(at: i64) -> i64 {
    at.saturating_mul(1000)
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The columns an alert's numbers fill.
struct AlertColumns {
    rule: alerts::Rule,
    severity: alerts::Severity,
    principal_key: String,
    principal_name: String,
    principal: String,
    tables: String,
    categories: String,
    records_method: String,
    explanation: String,
    engine: String,
}

fn columns(alert: &Alert) -> Result<AlertColumns, AlertError> {
    let rule = alerts::Rule::parse(alert.rule.as_str())
        .ok_or_else(|| AlertError::Unexpected(anyhow::anyhow!("unknown rule {:?}", alert.rule)))?;
    let severity = alerts::Severity::parse(&text_of(alert.severity)).ok_or_else(|| {
        AlertError::Unexpected(anyhow::anyhow!("unknown severity {:?}", alert.severity))
    })?;
    Ok(AlertColumns {
        rule,
        severity,
        principal_key: serde_json::to_string(&alert.key)?,
        principal_name: principal_name(&alert.key),
        principal: serde_json::to_string(&alert.principal)?,
        tables: serde_json::to_string(&alert.tables)?,
        categories: serde_json::to_string(&alert.categories.names())?,
        records_method: text_of(alert.records_method),
        explanation: alert.explanation(),
        engine: serde_json::to_string(alert)?,
    })
}

/// The stored evidence plus the alert's evidence signals this run knows, at most 64.
fn merged_evidence(
    stored: &str,
    alert: &Alert,
    known: &HashMap<u64, Evidence>,
) -> Result<String, AlertError> {
    let mut items: Vec<Evidence> = serde_json::from_str(stored).unwrap_or_default();
    let have: HashSet<u64> = items.iter().map(|e| e.signal).collect();
    for id in &alert.evidence {
        if items.len() >= 64 {
            break;
        }
        if !have.contains(id)
            && let Some(item) = known.get(id)
        {
            items.push(item.clone());
        }
    }
    Ok(serde_json::to_string(&items)?)
}

fn evidence_of(signal: &Signal, input: &detection_inputs::Model) -> Evidence {
    Evidence {
        signal: signal.id,
        input: input.seq,
        source: input.source.as_str().to_owned(),
        kind: text_of(signal.kind),
        at: secs_to_ms(signal.at),
        tables: signal
            .tables
            .iter()
            .take(EVIDENCE_TABLES)
            .cloned()
            .collect(),
        count: signal.count,
        rows: signal.rows,
    }
}

/// Processes the tenant's next inputs. Returns what it did; `more` when lines are left.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
pub async fn process_tenant(
    db: &DatabaseConnection,
    tenant: Uuid,
    now: i64,
) -> Result<RunOutcome, AlertError> {
    let txn = begin_write(db).await?;
    let Some(cursor) = lock_cursor(&txn, tenant).await? else {
        txn.rollback().await?;
        return Ok(RunOutcome::default());
    };
    if cursor.processed_seq >= cursor.input_seq {
        txn.rollback().await?;
        return Ok(RunOutcome::default());
    }
    let inputs = detection_inputs::Entity::find()
        .filter(detection_inputs::Column::TenantId.eq(tenant))
        .filter(detection_inputs::Column::Seq.gt(cursor.processed_seq))
        .order_by_asc(detection_inputs::Column::Seq)
        .limit(BATCH)
        .all(&txn)
        .await?;
    let last_seq = inputs.last().map_or(cursor.input_seq, |i| i.seq);
    let (mut engine, mut normalizer, saved) = load_engine(&txn, tenant).await?;

    let mut signals = Vec::new();
    let mut known = HashMap::new();
    let mut malformed = 0u64;
    let mut batch = Vec::new();
    for input in &inputs {
        batch.clear();
        match normalizer.line(&input.line, &mut batch) {
            Ok(()) => {}
            Err(NormalizeError::Malformed(_) | NormalizeError::NoTime) => malformed += 1,
        }
        for signal in batch.drain(..) {
            known.insert(signal.id, evidence_of(&signal, input));
            signals.push(signal);
        }
    }
    signals.sort_by_key(|s| (s.at, s.id));

    let before: HashMap<u64, Alert> = engine.open_alerts().map(|a| (a.id, a.clone())).collect();
    let first_new_id = engine.state().next_alert_id;
    for signal in &signals {
        engine.ingest(signal);
    }
    let closed = engine.take_closed();
    let mut changed: Vec<(Alert, bool)> = engine
        .open_alerts()
        .filter(|a| before.get(&a.id) != Some(*a))
        .map(|a| (a.clone(), true))
        .collect();
    changed.extend(closed.into_iter().map(|a| (a, false)));
    changed.sort_by_key(|(a, _)| a.id);

    let ctx = system_ctx(tenant);
    let existing: HashMap<i64, alerts::Model> = if changed.iter().any(|(a, _)| a.id < first_new_id)
    {
        let ids: Vec<i64> = changed
            .iter()
            .filter(|(a, _)| a.id < first_new_id)
            .map(|(a, _)| clamp(a.id))
            .collect();
        alerts::Entity::find()
            .filter(alerts::Column::TenantId.eq(tenant))
            .filter(alerts::Column::EngineAlertId.is_in(ids))
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| (m.engine_alert_id, m))
            .collect()
    } else {
        HashMap::new()
    };
    let mut outcome = RunOutcome {
        inputs: inputs.len() as u64,
        signals: signals.len() as u64,
        more: last_seq < cursor.input_seq,
        ..RunOutcome::default()
    };
    let mut opened_ids = Vec::new();
    let mut updated_ids = Vec::new();
    for (alert, still_open) in &changed {
        let cols = columns(alert)?;
        match existing.get(&clamp(alert.id)) {
            Some(row) => {
                let evidence = merged_evidence(&row.evidence, alert, &known)?;
                alerts::Entity::update_many()
                    .col_expr(alerts::Column::Severity, Expr::value(cols.severity))
                    .col_expr(alerts::Column::EpisodeOpen, Expr::value(*still_open))
                    .col_expr(
                        alerts::Column::RecordsEstimate,
                        Expr::value(clamp(alert.records_estimate)),
                    )
                    .col_expr(alerts::Column::Tables, Expr::value(cols.tables))
                    .col_expr(alerts::Column::Categories, Expr::value(cols.categories))
                    .col_expr(
                        alerts::Column::StartedAt,
                        Expr::value(secs_to_ms(alert.started_at)),
                    )
                    .col_expr(
                        alerts::Column::LastSeenAt,
                        Expr::value(secs_to_ms(alert.last_seen_at)),
                    )
                    .col_expr(alerts::Column::Explanation, Expr::value(cols.explanation))
                    .col_expr(alerts::Column::Evidence, Expr::value(evidence))
                    .col_expr(alerts::Column::Engine, Expr::value(cols.engine))
                    .col_expr(alerts::Column::UpdatedAt, Expr::value(now))
                    .filter(alerts::Column::TenantId.eq(tenant))
                    .filter(alerts::Column::Id.eq(row.id))
                    .exec(&txn)
                    .await?;
                outcome.updated += 1;
                if updated_ids.len() < AUDITED_IDS {
                    updated_ids.push(row.id.to_string());
                }
                if !still_open && row.episode_open {
                    record_event(
                        &txn,
                        &ctx,
                        row.id,
                        alert_events::Kind::EpisodeClosed,
                        now,
                        serde_json::json!({"records_estimate": alert.records_estimate}),
                    )
                    .await?;
                }
            }
            None if alert.id >= first_new_id => {
                let id = Uuid::now_v7();
                let evidence = merged_evidence("[]", alert, &known)?;
                alerts::Entity::insert(alerts::ActiveModel {
                    tenant_id: Set(tenant),
                    id: Set(id),
                    engine_alert_id: Set(clamp(alert.id)),
                    rule: Set(cols.rule),
                    severity: Set(cols.severity),
                    state: Set(alerts::State::Open),
                    episode_open: Set(*still_open),
                    principal_key: Set(cols.principal_key),
                    principal_name: Set(cols.principal_name),
                    principal: Set(cols.principal),
                    records_estimate: Set(clamp(alert.records_estimate)),
                    records_method: Set(cols.records_method),
                    tables: Set(cols.tables),
                    categories: Set(cols.categories),
                    started_at: Set(secs_to_ms(alert.started_at)),
                    detected_at: Set(secs_to_ms(alert.detected_at)),
                    last_seen_at: Set(secs_to_ms(alert.last_seen_at)),
                    explanation: Set(cols.explanation.clone()),
                    evidence: Set(evidence),
                    engine: Set(cols.engine),
                    incident_id: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                })
                .exec_without_returning(&txn)
                .await?;
                let detail = serde_json::json!({
                    "rule": alert.rule.as_str(),
                    "severity": text_of(alert.severity),
                    "principal": alert.principal.describe(),
                    "records_estimate": alert.records_estimate,
                });
                record_event(
                    &txn,
                    &ctx,
                    id,
                    alert_events::Kind::Opened,
                    now,
                    detail.clone(),
                )
                .await?;
                audit_chain::record(
                    &txn,
                    &ctx,
                    "alert.opened",
                    Subject::new("alert", id.to_string()),
                    detail,
                )
                .await?;
                outcome.opened += 1;
                opened_ids.push(id.to_string());
            }
            // An episode whose row an analyst's change already ended (never written back).
            None => {}
        }
    }
    save_engine(
        &txn,
        tenant,
        &engine,
        &normalizer,
        saved.as_ref(),
        malformed,
        now,
    )
    .await?;
    detection_cursors::Entity::update_many()
        .col_expr(
            detection_cursors::Column::ProcessedSeq,
            Expr::value(last_seq),
        )
        .col_expr(detection_cursors::Column::UpdatedAt, Expr::value(now))
        .filter(detection_cursors::Column::TenantId.eq(tenant))
        .exec(&txn)
        .await?;
    detection_inputs::Entity::delete_many()
        .filter(detection_inputs::Column::TenantId.eq(tenant))
        .filter(detection_inputs::Column::Seq.lte(last_seq))
        .exec(&txn)
        .await?;
    audit_chain::record(
        &txn,
        &ctx,
        "detection.processed",
        Subject::new("detection", tenant.to_string()),
        serde_json::json!({
            "from_input": cursor.processed_seq + 1,
            "to_input": last_seq,
            "inputs": outcome.inputs,
            "signals": outcome.signals,
            "malformed": malformed,
            "alerts_opened": opened_ids,
            "alerts_updated": outcome.updated,
            "alerts_updated_ids": updated_ids,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_principal_name_is_the_principals_own_id() {
        assert_eq!(
            principal_name(&PrincipalKey::DbAccount(
                "intruder".into(),
                "10.0.0.1".into()
            )),
            "intruder"
        );
        assert_eq!(principal_name(&PrincipalKey::Admin("7".into())), "7");
        assert_eq!(principal_name(&PrincipalKey::Unknown), "");
    }
}
