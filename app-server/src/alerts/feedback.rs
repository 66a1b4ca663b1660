//! Analysts' feedback on an alert (`POST /api/v1/alerts/{id}/feedback`).
//!
//! | action | from | to | also |
//! |---|---|---|---|
//! | `acknowledge` | open | acknowledged | |
//! | `false_positive` | open, acknowledged | false_positive | a suppression (reason, scope, expiry) in the engine and in `alert_suppressions`; optionally the alert's volume learned as normal; the episode ends |
//! | `resolve` | open, acknowledged, escalated | resolved | the episode ends: later activity opens a new alert |
//! | `reopen` | false_positive, resolved | open | the alert's suppressions are revoked (the learned volume stays learned, like any history) |
//! | `escalate` | open, acknowledged | escalated | an incident, opened in the same transaction; the alert names it and its timeline names the alert |
//!
//! The change holds the tenant's detection cursor row, so it never interleaves with a detection
//! run. Refusals (unknown action, fields the action does not take, a wrong state, a scope too
//! wide for the rule, an expiry in the past) change nothing.

use leakguard_domain::audit::Subject;
use leakguard_domain::detect::feedback::{SuppressionScope, rule_needs_principal};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::detect::{load_engine, lock_cursor, save_engine};
use super::{AlertDetail, AlertError, EventKind, State, actor_of, detail_of, find, record_event};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{alert_suppressions, alerts};
use crate::incidents::{self, FactsChange, IncidentError, NewIncident};
use crate::invalid_input::{InvalidInput, Reason};
use crate::tenancy::{TenantCtx, scoped, scoped_update};

/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 2000;
/// Default life of a false-positive suppression.
pub const DEFAULT_SUPPRESSION_DAYS: i64 = 90;
/// Longest life of a false-positive suppression.
pub const MAX_SUPPRESSION_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;

/// Body of `POST /api/v1/alerts/{id}/feedback`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertFeedback {
    /// `acknowledge`, `false_positive`, `resolve`, `reopen` or `escalate`.
    #[schema(pattern = "^(acknowledge|false_positive|resolve|reopen|escalate)$")]
    pub action: String,
    /// Why, up to 2000 characters; required for `false_positive`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// `false_positive` only: what stays quiet: `principal_and_rule` (default), `principal`
    /// (every rule for this principal) or `rule` (this rule for every principal; refused for
    /// `into_outfile`, `scope_grant` and `logging_disabled`).
    #[serde(default)]
    #[schema(pattern = "^(principal|rule|principal_and_rule)$")]
    pub scope: Option<String>,
    /// `false_positive` only: until when (RFC 3339, in the future, at most 365 days ahead;
    /// default 90 days).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
    /// `false_positive` only: also learn the alert's volume at that hour as normal (default true).
    #[serde(default)]
    pub learn_normal: Option<bool>,
    /// `escalate` only: the incident's title (default: the rule and the principal).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: Option<String>,
}

/// An action, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Acknowledge,
    FalsePositive {
        scope: alert_suppressions::Scope,
        until: Option<i64>,
        learn_normal: bool,
    },
    Resolve,
    Reopen,
    Escalate {
        title: Option<String>,
    },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::FalsePositive { .. } => "false_positive",
            Self::Resolve => "resolve",
            Self::Reopen => "reopen",
            Self::Escalate { .. } => "escalate",
        }
    }

    fn target(&self) -> State {
        match self {
            Self::Acknowledge => State::Acknowledged,
            Self::FalsePositive { .. } => State::FalsePositive,
            Self::Resolve => State::Resolved,
            Self::Reopen => State::Open,
            Self::Escalate { .. } => State::Escalated,
        }
    }

    fn allowed_from(&self) -> &'static [State] {
        match self {
            Self::Acknowledge => &[State::Open],
            Self::FalsePositive { .. } | Self::Escalate { .. } => {
                &[State::Open, State::Acknowledged]
            }
            Self::Resolve => &[State::Open, State::Acknowledged, State::Escalated],
            Self::Reopen => &[State::FalsePositive, State::Resolved],
        }
    }

    fn event(&self) -> EventKind {
        match self {
            Self::Acknowledge => EventKind::Acknowledged,
            Self::FalsePositive { .. } => EventKind::FalsePositive,
            Self::Resolve => EventKind::Resolved,
            Self::Reopen => EventKind::Reopened,
            Self::Escalate { .. } => EventKind::Escalated,
        }
    }
}

fn only_for(field: &str, present: bool, action: &str) -> Result<(), InvalidInput> {
    if present {
        return Err(InvalidInput::new(
            Reason::InvalidField,
            format!("{field} applies only to {action}"),
        ));
    }
    Ok(())
}

/// Checks the body without looking at the alert; returns the action and the trimmed reason.
fn parse(body: &AlertFeedback, now: i64) -> Result<(Action, Option<String>), InvalidInput> {
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    if reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS || r.contains('\0'))
    {
        return Err(InvalidInput::new(
            Reason::InvalidJustification,
            format!("reason must be at most {MAX_REASON_CHARS} characters"),
        ));
    }
    let action = body.action.as_str();
    if action != "false_positive" {
        only_for("scope", body.scope.is_some(), "false_positive")?;
        only_for("until", body.until.is_some(), "false_positive")?;
        only_for(
            "learn_normal",
            body.learn_normal.is_some(),
            "false_positive",
        )?;
    }
    if action != "escalate" {
        only_for("title", body.title.is_some(), "escalate")?;
    }
    let parsed = match action {
        "acknowledge" => Action::Acknowledge,
        "resolve" => Action::Resolve,
        "reopen" => Action::Reopen,
        "escalate" => Action::Escalate {
            title: match body.title.as_deref() {
                Some(title) => Some(incidents::check_title(title)?),
                None => None,
            },
        },
        "false_positive" => {
            if reason.is_none() {
                return Err(InvalidInput::new(
                    Reason::InvalidJustification,
                    "a false positive needs a reason",
                ));
            }
            let scope_text = body.scope.as_deref().unwrap_or("principal_and_rule");
            let scope = alert_suppressions::Scope::parse(scope_text).ok_or_else(|| {
                InvalidInput::new(
                    Reason::InvalidSuppressionScope,
                    "scope must be principal, rule or principal_and_rule",
                )
            })?;
            let until = match body.until.as_deref() {
                None => None,
                Some(text) => {
                    let at = crate::api_time::parse(text)
                        .map_err(|e| InvalidInput::new(Reason::InvalidExpiry, e))?;
                    if at <= now || at > now + MAX_SUPPRESSION_DAYS * DAY_MS {
                        return Err(InvalidInput::new(
                            Reason::InvalidExpiry,
                            format!(
                                "until must be in the future and at most {MAX_SUPPRESSION_DAYS} days ahead"
                            ),
                        ));
                    }
                    Some(at)
                }
            };
            Action::FalsePositive {
                scope,
                until,
                learn_normal: body.learn_normal.unwrap_or(true),
            }
        }
        _ => {
            return Err(InvalidInput::new(
                Reason::InvalidFeedbackAction,
                "action must be acknowledge, false_positive, resolve, reopen or escalate",
            ));
        }
    };
    Ok((parsed, reason))
}

fn incident_error(e: IncidentError) -> AlertError {
    match e {
        IncidentError::Invalid(invalid) => AlertError::Invalid(invalid),
        IncidentError::NotFound => AlertError::NotFound,
        IncidentError::Forbidden => AlertError::Forbidden,
        IncidentError::Unexpected(e) => AlertError::Unexpected(e),
    }
}

/// Applies an analyst's feedback (owners, admins, analysts) and returns the changed alert.
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn apply_feedback(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    body: AlertFeedback,
    now: i64,
) -> Result<AlertDetail, AlertError> {
    if !ctx.role().can_review() {
        return Err(AlertError::Forbidden);
    }
    let (action, reason) = parse(&body, now)?;
    let tenant = ctx.tenant_id().as_uuid();
    let txn = begin_write(db).await?;
    lock_cursor(&txn, tenant).await?;
    let row = find(&txn, ctx, id).await?;
    if !action.allowed_from().contains(&row.state) {
        return Err(InvalidInput::new(
            Reason::InvalidTransition,
            format!(
                "an alert that is {} cannot take {}",
                row.state.as_str(),
                action.name()
            ),
        )
        .into());
    }
    let engine_alert: leakguard_domain::detect::Alert = serde_json::from_str(&row.engine)?;
    let mut detail = serde_json::json!({
        "from": row.state.as_str(),
        "to": action.target().as_str(),
    });
    if let Some(reason) = &reason {
        detail["reason"] = serde_json::json!(reason);
    }
    let mut update = scoped_update::<alerts::Entity>(ctx)
        .filter(alerts::Column::Id.eq(id))
        .col_expr(alerts::Column::State, Expr::value(action.target()))
        .col_expr(alerts::Column::UpdatedAt, Expr::value(now));
    match &action {
        Action::Acknowledge => {}
        Action::FalsePositive {
            scope,
            until,
            learn_normal,
        } => {
            let scope = *scope;
            if scope == alert_suppressions::Scope::Rule && rule_needs_principal(engine_alert.rule) {
                return Err(InvalidInput::new(
                    Reason::InvalidSuppressionScope,
                    format!(
                        "{} cannot be silenced for every principal; use principal_and_rule",
                        engine_alert.rule.as_str()
                    ),
                )
                .into());
            }
            let until = until.unwrap_or(now + DEFAULT_SUPPRESSION_DAYS * DAY_MS);
            let engine_scope = SuppressionScope {
                principal: (scope != alert_suppressions::Scope::Rule)
                    .then(|| engine_alert.key.clone()),
                rule: (scope != alert_suppressions::Scope::Principal).then_some(engine_alert.rule),
                category: None,
            };
            let (mut engine, normalizer, saved) = load_engine(&txn, tenant).await?;
            let suppression = engine.mark_false_positive(
                &engine_alert,
                engine_scope,
                until / 1000,
                *learn_normal,
            );
            save_engine(&txn, tenant, &engine, &normalizer, saved.as_ref(), 0, now).await?;
            let suppression_id = Uuid::now_v7();
            alert_suppressions::Entity::insert(alert_suppressions::ActiveModel {
                tenant_id: Set(tenant),
                id: Set(suppression_id),
                alert_id: Set(id),
                engine_suppression_id: Set(i64::try_from(suppression).unwrap_or(i64::MAX)),
                scope: Set(scope),
                rule: Set((scope != alert_suppressions::Scope::Principal)
                    .then(|| engine_alert.rule.as_str().to_owned())),
                principal_key: Set(
                    (scope != alert_suppressions::Scope::Rule).then(|| row.principal_key.clone())
                ),
                until: Set(until),
                reason: Set(reason.clone().unwrap_or_default()),
                learn_normal: Set(*learn_normal),
                created_by: Set(actor_of(ctx)),
                created_at: Set(now),
                revoked_at: Set(None),
                revoked_by: Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
            detail["scope"] = serde_json::json!(scope.as_str());
            detail["until"] = serde_json::json!(crate::api_time::format(until));
            detail["learn_normal"] = serde_json::json!(learn_normal);
            detail["suppression_id"] = serde_json::json!(suppression_id);
            update = update.col_expr(alerts::Column::EpisodeOpen, Expr::value(false));
        }
        Action::Resolve => {
            let (mut engine, normalizer, saved) = load_engine(&txn, tenant).await?;
            if engine.close_episode(&engine_alert) {
                save_engine(&txn, tenant, &engine, &normalizer, saved.as_ref(), 0, now).await?;
            }
            update = update.col_expr(alerts::Column::EpisodeOpen, Expr::value(false));
        }
        Action::Reopen => {
            let active = scoped::<alert_suppressions::Entity>(ctx)
                .filter(alert_suppressions::Column::AlertId.eq(id))
                .filter(alert_suppressions::Column::RevokedAt.is_null())
                .all(&txn)
                .await?;
            if !active.is_empty() {
                let (mut engine, normalizer, saved) = load_engine(&txn, tenant).await?;
                for suppression in &active {
                    engine.revoke_suppression(
                        u64::try_from(suppression.engine_suppression_id).unwrap_or(0),
                    );
                }
                save_engine(&txn, tenant, &engine, &normalizer, saved.as_ref(), 0, now).await?;
                scoped_update::<alert_suppressions::Entity>(ctx)
                    .filter(alert_suppressions::Column::AlertId.eq(id))
                    .filter(alert_suppressions::Column::RevokedAt.is_null())
                    .col_expr(alert_suppressions::Column::RevokedAt, Expr::value(now))
                    .col_expr(
                        alert_suppressions::Column::RevokedBy,
                        Expr::value(actor_of(ctx)),
                    )
                    .exec(&txn)
                    .await?;
                detail["suppressions_revoked"] =
                    serde_json::json!(active.iter().map(|s| s.id.to_string()).collect::<Vec<_>>());
            }
        }
        Action::Escalate { title } => {
            let label = engine_alert.principal.describe();
            let title = title.clone().unwrap_or_else(|| {
                format!("{}: {label}", engine_alert.rule.as_str().replace('_', " "))
                    .chars()
                    .take(incidents::MAX_TITLE_CHARS)
                    .collect()
            });
            let new = NewIncident {
                title,
                severity: row.severity.as_str().to_owned(),
                owner_user_id: None,
                facts: Some(FactsChange {
                    records_estimate: Some(row.records_estimate),
                    ..FactsChange::default()
                }),
            };
            let incident = incidents::create_in(&txn, ctx, new, now)
                .await
                .map_err(incident_error)?;
            incidents::link_alert(&txn, ctx, incident, id, &row.explanation, now)
                .await
                .map_err(incident_error)?;
            detail["incident_id"] = serde_json::json!(incident);
            update = update.col_expr(alerts::Column::IncidentId, Expr::value(incident));
        }
    }
    update.exec(&txn).await?;
    record_event(&txn, ctx, id, action.event(), now, detail.clone()).await?;
    audit_chain::record(
        &txn,
        ctx,
        &format!("alert.{}", action.name()),
        Subject::new("alert", id.to_string()),
        detail,
    )
    .await?;
    let changed = detail_of(&txn, ctx, id).await?;
    txn.commit().await?;
    Ok(changed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> AlertFeedback {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_false_positive_needs_a_reason_and_a_known_scope() {
        let now = 1_800_000_000_000;
        let refused = |json| parse(&body(json), now).unwrap_err().reason;
        assert_eq!(
            refused(serde_json::json!({"action": "false_positive"})),
            Reason::InvalidJustification
        );
        assert_eq!(
            refused(
                serde_json::json!({"action": "false_positive", "reason": "backup", "scope": "everyone"})
            ),
            Reason::InvalidSuppressionScope
        );
        assert_eq!(
            refused(
                serde_json::json!({"action": "false_positive", "reason": "backup", "until": "2020-01-01T00:00:00Z"})
            ),
            Reason::InvalidExpiry
        );
        assert_eq!(
            refused(serde_json::json!({"action": "delete"})),
            Reason::InvalidFeedbackAction
        );
        assert_eq!(
            refused(serde_json::json!({"action": "acknowledge", "scope": "rule"})),
            Reason::InvalidField
        );
        let (action, reason) = parse(
            &body(serde_json::json!({"action": "false_positive", "reason": " nightly backup "})),
            now,
        )
        .unwrap();
        assert_eq!(reason.as_deref(), Some("nightly backup"));
        assert_eq!(
            action,
            Action::FalsePositive {
                scope: alert_suppressions::Scope::PrincipalAndRule,
                until: None,
                learn_normal: true
            }
        );
    }

    #[test]
    fn every_action_leaves_only_the_states_it_names() {
        let reopen = Action::Reopen;
        assert!(reopen.allowed_from().contains(&State::Resolved));
        assert!(!reopen.allowed_from().contains(&State::Open));
        assert!(
            !Action::Acknowledge
                .allowed_from()
                .contains(&State::Escalated)
        );
    }
}
