//! The permission report (JSON and CSV export), the principals of the latest snapshot and the
//! overview counts.

use leakguard_domain::permissions::{self as model, Snapshot};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::AuditsError;
use super::review::{FindingFilter, list_findings};
use super::run::{list_runs, load_run};
use super::views::{
    FindingView, GrantView, Overview, PrincipalView, PrincipalsView, RunView, severity_rank,
};
use crate::db::entities::{perm_audit_snapshots, perm_findings};
use crate::tenancy::{TenantCtx, scoped};

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
