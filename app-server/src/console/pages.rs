//! Page rendering: the templates (compiled into the binary) and what every page shows.
//!
//! Autoescaping is on for every `.html` template (minijinja's default by file extension), so a
//! value from a snapshot (an app title, an admin's name) can never become markup.

use minijinja::{Environment, Value, context};
use serde::Serialize;
use std::sync::OnceLock;

/// The stylesheet.
pub const CSS: &str = include_str!("static/console.css");
/// The script.
pub const JS: &str = include_str!("static/console.js");

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("principals.html", include_str!("templates/principals.html")),
    ("changes.html", include_str!("templates/changes.html")),
    ("findings.html", include_str!("templates/findings.html")),
    ("finding.html", include_str!("templates/finding.html")),
    ("runs.html", include_str!("templates/runs.html")),
    ("run.html", include_str!("templates/run.html")),
    ("retention.html", include_str!("templates/retention.html")),
    ("alerts.html", include_str!("templates/alerts.html")),
    ("alert.html", include_str!("templates/alert.html")),
    ("incidents.html", include_str!("templates/incidents.html")),
    ("incident.html", include_str!("templates/incident.html")),
    ("login.html", include_str!("templates/login.html")),
    ("error.html", include_str!("templates/error.html")),
];

/// A template value from anything serializable.
pub fn value<T: Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// Formats Unix ms as `2026-11-28 10:30 UTC`.
pub fn format_ts(ms: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// Formats Unix ms as an ISO date (`2026-11-28`).
pub fn format_date(ms: i64) -> String {
    format_ts(ms).get(..10).unwrap_or_default().to_owned()
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "Console template does not compile.");
            }
        }
        // Views carry times as RFC 3339 strings (their JSON form); raw Unix ms still format.
        env.add_filter("ts", |at: Value| match at.as_i64() {
            Some(ms) => format_ts(ms),
            None => at
                .as_str()
                .and_then(|text| crate::api_time::parse(text).ok())
                .map(format_ts)
                .unwrap_or_default(),
        });
        env
    })
}

/// What every console page shows around its content.
#[derive(Clone, Debug, Serialize)]
pub struct Chrome {
    /// Shop domain or Magento base URL.
    pub tenant_label: String,
    /// The user's role.
    pub role: String,
    /// CSRF token for forms (empty for bearer-authenticated requests, which need none).
    pub csrf: String,
    /// Whether the user may review and run audits.
    pub can_review: bool,
    /// The Shopify app's client id when App Bridge is to be loaded (embedded, production).
    pub app_bridge_key: Option<String>,
    /// The page id for the active tab.
    pub active: &'static str,
    /// A success message.
    pub flash: Option<String>,
    /// An error message.
    pub error: Option<String>,
}

#[derive(Serialize)]
struct NavItem {
    id: &'static str,
    label: &'static str,
    href: &'static str,
}

const NAV: &[NavItem] = &[
    NavItem {
        id: "overview",
        label: "Overview",
        href: "/console/permissions",
    },
    NavItem {
        id: "principals",
        label: "Apps and users",
        href: "/console/permissions/principals",
    },
    NavItem {
        id: "changes",
        label: "Changes",
        href: "/console/permissions/changes",
    },
    NavItem {
        id: "findings",
        label: "Findings",
        href: "/console/permissions/findings",
    },
    NavItem {
        id: "runs",
        label: "Audit runs",
        href: "/console/permissions/runs",
    },
    NavItem {
        id: "retention",
        label: "Retention",
        href: "/console/retention",
    },
    NavItem {
        id: "alerts",
        label: "Alerts",
        href: "/console/alerts",
    },
    NavItem {
        id: "incidents",
        label: "Incidents",
        href: "/console/incidents",
    },
];

/// Renders a console page: `chrome` plus the page's own values.
pub fn render(template: &str, chrome: &Chrome, page: Value) -> Result<String, anyhow::Error> {
    let tmpl = environment().get_template(template)?;
    let ctx = context! {
        tenant_label => chrome.tenant_label.clone(),
        role => chrome.role.clone(),
        csrf => chrome.csrf.clone(),
        can_review => chrome.can_review,
        app_bridge_key => chrome.app_bridge_key.clone(),
        active => chrome.active,
        flash => chrome.flash.clone(),
        error => chrome.error.clone(),
        nav => value(NAV),
        ..page
    };
    Ok(tmpl.render(ctx)?)
}

/// Renders a page outside the console frame (sign-in, errors).
pub fn render_plain(template: &str, page: Value) -> Result<String, anyhow::Error> {
    Ok(environment().get_template(template)?.render(page)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrome() -> Chrome {
        Chrome {
            tenant_label: "shop.myshopify.com".into(),
            role: "owner".into(),
            csrf: "t".into(),
            can_review: true,
            app_bridge_key: None,
            active: "findings",
            flash: None,
            error: None,
        }
    }

    #[test]
    fn every_template_compiles_and_values_are_escaped() {
        for (name, _) in TEMPLATES {
            assert!(environment().get_template(name).is_ok(), "{name}");
        }
        let html = render(
            "findings.html",
            &chrome(),
            context! {
                filter => "active",
                filters => value([("active", "Active")].map(|(id, label)| serde_json::json!({"id": id, "label": label}))),
                findings => value([serde_json::json!({
                    "id": "00000000-0000-0000-0000-000000000000", "key": "k", "kind": "escalation",
                    "kind_label": "Gained access", "severity": "high", "state": "open",
                    "principal_name": "<script>alert(1)</script>", "grants": [], "message": "m",
                    "first_seen": 0, "last_seen": 0
                })]),
            },
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        assert!(html.contains("&lt;script&gt;alert(1)"));
        assert!(!html.contains("<script>alert(1)"));
        assert!(
            !html.contains("cdn.shopify.com"),
            "no App Bridge without a key"
        );
    }

    #[test]
    fn app_bridge_is_loaded_first_only_when_configured() {
        let mut embedded = chrome();
        embedded.app_bridge_key = Some("client-id-123".into());
        let html = render("overview.html", &embedded, context! {overview => value(serde_json::json!({"by_state": {}, "by_severity": {}, "principals": 0, "high_risk_principals": 0, "top_open": []}))})
            .unwrap_or_else(|e| panic!("{e:#}"));
        let bridge = html
            .find("https://cdn.shopify.com/shopifycloud/app-bridge.js")
            .unwrap_or_else(|| panic!("no App Bridge: {html}"));
        let own = html.find("/console/static/console.js").unwrap_or(0);
        assert!(bridge < own, "App Bridge comes before other scripts");
        assert!(html.contains("<meta name=\"shopify-api-key\" content=\"client-id-123\">"));
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(format_ts(1_795_861_800_000), "2026-11-28 10:30 UTC");
        assert_eq!(format_date(1_795_861_800_000), "2026-11-28");
    }
}
