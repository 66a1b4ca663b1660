//! `leakguard permissions audit`: runs a tenant's permission audit now and prints the
//! principals, their grants and risk, and the findings (text, or `--json`).

use std::process::ExitCode;

use crate::db::now_ms;
use crate::permission_audits::{self, AuditSources, Trigger};
use crate::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;

/// Runs the audit of `tenant` (id, shop or base URL) and prints the report. Exit code 2 when the
/// run failed (the platform could not be read).
pub async fn audit(sources: &AuditSources, tenant: &str, json: bool) -> anyhow::Result<ExitCode> {
    let db = &sources.shopify.db;
    let tenant = crate::tenants::resolve(db, tenant).await?;
    let ctx = TenantCtx::system(TenantId(tenant.id), "cli");
    let now = now_ms();
    let source = permission_audits::sources::for_tenant(sources, &ctx, &tenant, now).await?;
    let run = permission_audits::run_now(db, &ctx, &source, Trigger::Cli, now).await?;
    let report = permission_audits::report(db, &ctx, now).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"run": run, "report": report}))?
        );
    } else {
        let label = tenant.shop_domain.or(tenant.base_url).unwrap_or_default();
        println!("Permission audit of {label}: {}", run.status.as_str());
        if let Some(error) = &run.error {
            println!("  error: {error}");
        }
        if let Some(notice) = &run.notice {
            println!("  INCOMPLETE: {notice}");
        }
        println!(
            "  {} principals, {} changes, {} findings ({} new, {} resolved)",
            run.principals,
            run.changes,
            run.findings_active,
            run.findings_new,
            run.findings_resolved
        );
        println!();
        println!("Principals");
        for p in &report.principals {
            println!("  [{:8}] {} ({}, {})", p.level, p.name, p.kind, p.key);
            for g in &p.grants {
                println!("      {:8} {:40} {}", g.level, g.grant, g.reason);
            }
        }
        println!();
        println!("Findings");
        if report.findings.is_empty() {
            println!("  none");
        }
        for f in &report.findings {
            println!("  [{:8}] {:20} {}", f.severity, f.state, f.message);
        }
    }
    Ok(
        if run.status == crate::db::entities::perm_audit_runs::Status::Succeeded {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        },
    )
}
