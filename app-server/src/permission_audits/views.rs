//! The view types the console and the API show: runs, findings, reviews, changes, principals,
//! the schedule and the overview, with the conversions from their rows.

use leakguard_domain::permissions::{
    self as model, Change, Decision, Finding, FindingKind, FindingState, Level, Snapshot,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

use crate::db::entities::{perm_audit_runs, perm_findings, perm_reviews};

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

pub(super) fn grants_of(json: &str) -> BTreeSet<String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub(super) fn finding_view(row: perm_findings::Model, now_ms: i64) -> FindingView {
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

pub(super) fn severity_rank(s: &str) -> u8 {
    match Level::parse(s) {
        Some(Level::Critical) => 0,
        Some(Level::High) => 1,
        Some(Level::Medium) => 2,
        Some(Level::Low) => 3,
        _ => 4,
    }
}

/// A finding with its review history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FindingDetail {
    /// The finding.
    pub finding: FindingView,
    /// Its reviews, newest first.
    pub reviews: Vec<ReviewView>,
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

pub(super) fn change_views(
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
