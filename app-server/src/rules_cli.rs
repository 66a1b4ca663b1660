//! `leakguard rules`: the breach-notification rule table and the deadlines it gives for an
//! incident's facts (`leakguard_domain::law`). Pure: no configuration, no database. Bad input
//! is refused before anything is written to standard output, so a script never reads half an
//! answer.

use anyhow::Context;
use clap::{Args, Subcommand};
use leakguard_domain::law::{
    self, Audience, Encryption, Exposure, IncidentFacts, Obligation, RelativeDue, RuleTable,
};
use serde::Serialize;
use std::fmt::Write as _;
use std::process::ExitCode;

/// `rules` actions.
#[derive(Subcommand, Debug)]
pub enum RulesAction {
    /// List every rule version (jurisdiction, period, deadline, statute).
    List {
        /// JSON output (the whole table).
        #[arg(long)]
        json: bool,
    },
    /// Compute notice obligations and deadlines for an incident.
    Deadlines(DeadlinesArgs),
}

/// Arguments of `rules deadlines`. Dates are `YYYY-MM-DD` (UTC calendar days).
#[derive(Args, Debug)]
pub struct DeadlinesArgs {
    /// Date the breach was discovered.
    #[arg(long)]
    pub discovered: String,
    /// Date it was determined that a breach occurred (default: the discovery date).
    #[arg(long)]
    pub determined: Option<String>,
    /// Date the business became aware of the breach (default: the discovery date).
    #[arg(long)]
    pub aware: Option<String>,
    /// Affected residents per US state or territory, e.g. `CA=600,TX=300`.
    #[arg(long)]
    pub residents: Option<String>,
    /// Affected people per country (ISO 3166-1 alpha-2), e.g. `DE=10,GB=3`.
    #[arg(long)]
    pub countries: Option<String>,
    /// Data categories found (classifier entity names and statute elements), e.g.
    /// `PERSON,US_SSN`; without it every definition counts as met.
    #[arg(long)]
    pub categories: Option<String>,
    /// The data was encrypted.
    #[arg(long)]
    pub encrypted: bool,
    /// The key or credential to the encrypted data was taken too.
    #[arg(long, requires = "encrypted")]
    pub key_compromised: bool,
    /// Days a law-enforcement agency asked notice to be delayed.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub law_enforcement_delay_days: i64,
    /// Date notice to individuals was sent.
    #[arg(long)]
    pub notice_sent: Option<String>,
    /// The business is supervised by the NY Department of Financial Services (23 NYCRR 500).
    #[arg(long)]
    pub nydfs_covered: bool,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(action: &RulesAction) -> anyhow::Result<ExitCode> {
    let table = RuleTable::builtin().context("the built-in rule table is broken")?;
    let out = match action {
        RulesAction::List { json: true } => serde_json::to_string_pretty(table)? + "\n",
        RulesAction::List { json: false } => list_table(table),
        RulesAction::Deadlines(args) => {
            let facts = facts(args)?;
            let obligations = law::obligations(table, &facts)?;
            let exposure = law::exposure(table, &facts);
            if args.json {
                deadlines_json(&obligations, &exposure)?
            } else {
                deadlines_table(&obligations, &exposure)
            }
        }
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn facts(args: &DeadlinesArgs) -> anyhow::Result<IncidentFacts> {
    let date = |flag: &str, text: &Option<String>| -> anyhow::Result<_> {
        text.as_deref()
            .map(law::parse_date)
            .transpose()
            .with_context(|| format!("--{flag}"))
    };
    let mut facts =
        IncidentFacts::discovered_on(law::parse_date(&args.discovered).context("--discovered")?);
    facts.determined = date("determined", &args.determined)?;
    facts.aware = date("aware", &args.aware)?;
    facts.individual_notice_sent = date("notice-sent", &args.notice_sent)?;
    if let Some(text) = &args.residents {
        facts.residents = law::parse_counts(text).context("--residents")?;
    }
    if let Some(text) = &args.countries {
        facts.countries = law::parse_counts(text).context("--countries")?;
    }
    if facts.residents.is_empty() && facts.countries.is_empty() && !args.nydfs_covered {
        anyhow::bail!("give --residents or --countries (who was affected)");
    }
    if let Some(text) = &args.categories {
        facts.categories = Some(law::parse_categories(text).context("--categories")?);
    }
    facts.encryption = Encryption {
        encrypted: args.encrypted,
        key_compromised: args.key_compromised,
    };
    facts.law_enforcement_delay_days = u32::try_from(args.law_enforcement_delay_days)
        .ok()
        .filter(|days| *days <= 3650)
        .with_context(|| {
            format!(
                "--law-enforcement-delay-days must be 0 to 3650, not {}",
                args.law_enforcement_delay_days
            )
        })?;
    facts.nydfs_covered_entity = args.nydfs_covered;
    Ok(facts)
}

/// One obligation as the command prints it: the reason is part of the basis.
#[derive(Serialize)]
struct ObligationView<'a> {
    jurisdiction: &'a str,
    audience: Audience,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<&'a str>,
    triggered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_after: Option<RelativeDue>,
    basis: String,
    rule_version: &'a str,
}

impl<'a> ObligationView<'a> {
    fn of(o: &'a Obligation) -> Self {
        ObligationView {
            jurisdiction: &o.jurisdiction,
            audience: o.audience,
            recipient: o.recipient.as_deref(),
            triggered: o.triggered,
            due: o.due.map(|d| d.to_string()),
            due_after: o.due_after,
            basis: format!("{} Why: {}.", o.basis, o.reason),
            rule_version: &o.rule_version,
        }
    }
}

#[derive(Serialize)]
struct DeadlinesView<'a> {
    obligations: Vec<ObligationView<'a>>,
    exposure: &'a Exposure,
}

fn deadlines_json(obligations: &[Obligation], exposure: &Exposure) -> anyhow::Result<String> {
    let view = DeadlinesView {
        obligations: obligations.iter().map(ObligationView::of).collect(),
        exposure,
    };
    Ok(serde_json::to_string_pretty(&view)? + "\n")
}

fn audience_name(audience: Audience) -> &'static str {
    match audience {
        Audience::Individuals => "individuals",
        Audience::Regulator => "regulator",
        Audience::ConsumerReportingAgencies => "consumer_reporting_agencies",
        Audience::Media => "media",
    }
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Left-aligned columns, widths from the widest cell.
fn columns(rows: &[Vec<String>]) -> String {
    let n_cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..n_cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn due_cell(o: &Obligation) -> String {
    match (o.triggered, o.due, o.due_after) {
        (false, _, _) => "-".to_owned(),
        (true, Some(due), _) => due.to_string(),
        (true, None, Some(rel)) => format!("{} days after individual notice", rel.days),
        (true, None, None) => "no fixed date".to_owned(),
    }
}

fn deadlines_table(obligations: &[Obligation], exposure: &Exposure) -> String {
    let mut rows = vec![
        [
            "#",
            "DUE",
            "JURISDICTION",
            "AUDIENCE",
            "RECIPIENT",
            "OWED",
            "RULE VERSION",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for (idx, o) in obligations.iter().enumerate() {
        rows.push(vec![
            (idx + 1).to_string(),
            due_cell(o),
            o.jurisdiction.clone(),
            audience_name(o.audience).to_owned(),
            short(o.recipient.as_deref().unwrap_or("-"), 40),
            if o.triggered { "yes" } else { "no" }.to_owned(),
            o.rule_version.clone(),
        ]);
    }
    let mut out =
        String::from("Notice obligations, earliest first (dates are UTC calendar days)\n\n");
    out.push_str(&columns(&rows));
    out.push_str("\nBasis\n");
    for (idx, o) in obligations.iter().enumerate() {
        let _ = writeln!(out, "{:>3}. {}\n     Why: {}.", idx + 1, o.basis, o.reason);
    }
    out.push_str(&exposure_text(exposure));
    out
}

fn exposure_text(e: &Exposure) -> String {
    let mut out = format!(
        "\nCalifornia exposure estimate ({} consumers)\n",
        e.california_consumers
    );
    match (&e.statutory_damages, &e.administrative_fines) {
        (Some(d), Some(f)) => {
            let _ = writeln!(
                out,
                "  statutory damages: ${} to ${}{}\n    {}",
                d.total_min_usd,
                d.total_max_usd,
                if d.applies {
                    String::new()
                } else {
                    format!(" (not applicable: {})", d.reason)
                },
                d.basis
            );
            let _ = writeln!(
                out,
                "  administrative fines: up to ${} (${} if intentional)\n    {}",
                f.total_usd, f.total_intentional_usd, f.basis
            );
        }
        _ => out.push_str("  no CCPA amounts recorded for the discovery date\n"),
    }
    let _ = writeln!(out, "  {}", e.note);
    out
}

fn list_table(table: &RuleTable) -> String {
    let mut rows = vec![
        [
            "JURISDICTION",
            "VERSION",
            "IN FORCE",
            "STATUS",
            "INDIVIDUALS",
            "STATUTE",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for rule in &table.rules {
        let period = match rule.effective_to {
            Some(to) => format!("{} to {to}", rule.effective_from),
            None => format!("from {}", rule.effective_from),
        };
        let individuals = rule
            .individuals
            .as_ref()
            .map_or_else(|| "-".to_owned(), |n| n.deadline.describe());
        let status = match rule.status {
            law::RuleStatus::Confirmed => "confirmed",
            law::RuleStatus::Unconfirmed => "UNCONFIRMED",
        };
        rows.push(vec![
            rule.jurisdiction.clone(),
            rule.version.clone(),
            period,
            status.to_owned(),
            individuals,
            rule.statute.clone(),
        ]);
    }
    let mut out = format!("Rule table {}\n\n", table.table_version);
    out.push_str(&columns(&rows));
    let unconfirmed: Vec<&str> = table
        .unconfirmed
        .iter()
        .map(|u| u.jurisdiction.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\nUNCONFIRMED (no verified rule; no deadline computed): {}",
        unconfirmed.join(", ")
    );
    out
}
