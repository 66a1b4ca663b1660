//! Tests of the permission audit: risk levels, diffs, findings and review states together.

use super::*;
use std::collections::{BTreeMap, BTreeSet};

fn app(key: &str, grants: &[&str]) -> Principal {
    Principal {
        key: key.into(),
        kind: PrincipalKind::App,
        name: key.into(),
        grants: grants.iter().map(|s| (*s).to_owned()).collect(),
        attributes: BTreeMap::new(),
    }
}

fn shop(principals: Vec<Principal>) -> Snapshot {
    Snapshot {
        platform: Platform::Shopify,
        principals,
        complete: true,
        settings: BTreeMap::new(),
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn write_scopes_imply_read_scopes() {
    assert!(expand(Platform::Shopify, &set(&["write_customers"])).contains("read_customers"));
    assert_eq!(
        principal_level(Platform::Shopify, &app("a", &["read_products"])),
        Level::None
    );
    assert_eq!(
        principal_level(
            Platform::Shopify,
            &app("a", &["read_customer_payment_methods"])
        ),
        Level::Critical
    );
}

#[test]
fn an_app_gaining_read_customers_is_an_escalation() {
    let before = shop(vec![app("reviews", &["read_products"])]);
    let after = shop(vec![app("reviews", &["read_products", "read_customers"])]);
    assert_eq!(
        diff(&before, &after),
        vec![Change::Escalated {
            principal: "reviews".into(),
            added: set(&["read_customers"])
        }]
    );
    let policy = Policy {
        allowed: BTreeMap::from([(
            "reviews".to_owned(),
            set(&["read_products", "read_customers"]),
        )]),
        ..Policy::default()
    };
    let findings = evaluate(Some(&before), &after, &policy, &BTreeSet::new());
    let esc = findings
        .iter()
        .find(|f| f.kind == FindingKind::Escalation)
        .unwrap();
    assert_eq!(esc.severity, Level::High);
    assert_eq!(esc.grants, set(&["read_customers"]));
    // Allow-listed up to read_customers: no policy violation.
    assert!(
        !findings
            .iter()
            .any(|f| f.kind == FindingKind::PolicyViolation)
    );
}

#[test]
fn a_new_unlisted_app_with_pii_access_and_a_violation_are_found() {
    let before = shop(vec![app("erp", &["read_orders"])]);
    let after = shop(vec![
        app("erp", &["write_orders"]),
        app("spy", &["read_customers"]),
    ]);
    let policy = Policy {
        allowed: BTreeMap::from([("erp".to_owned(), set(&["read_orders"]))]),
        ..Policy::default()
    };
    let findings = evaluate(Some(&before), &after, &policy, &BTreeSet::new());
    let kinds: BTreeSet<_> = findings.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&FindingKind::NewPrincipalWithPii));
    assert!(kinds.contains(&FindingKind::PolicyViolation));
    let v = findings
        .iter()
        .find(|f| f.kind == FindingKind::PolicyViolation)
        .unwrap();
    assert_eq!(v.grants, set(&["write_orders"]));
    assert_eq!(v.severity, Level::Critical);
    // Reductions and removals are diffed too.
    let gone = diff(&after, &shop(vec![app("erp", &["read_orders"])]));
    assert!(gone.contains(&Change::Reduced {
        principal: "erp".into(),
        removed: set(&["write_orders"])
    }));
    assert!(gone.contains(&Change::Removed {
        principal: "spy".into()
    }));
}

#[test]
fn our_own_app_holding_unused_scopes_is_a_finding() {
    let mut own = app(
        "leakguard",
        &["read_customers", "read_orders", "write_products"],
    );
    own.kind = PrincipalKind::OwnApp;
    let findings = evaluate(
        None,
        &shop(vec![own]),
        &Policy::default(),
        &set(&["read_customers", "read_orders"]),
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, FindingKind::OwnAppOverGranted);
    assert_eq!(
        findings[0].grants,
        set(&["read_products", "write_products"])
    );
}

#[test]
fn magento_all_resources_bearer_stale_and_external_admins() {
    let mut integ = Principal {
        key: "magento_integration:7".into(),
        kind: PrincipalKind::Integration,
        name: "ERP sync".into(),
        grants: set(&["Magento_Backend::all"]),
        attributes: BTreeMap::new(),
    };
    integ.attributes.insert("all_resources".into(), true.into());
    let mut admin = Principal {
        key: "magento_admin:3".into(),
        kind: PrincipalKind::AdminUser,
        name: "contractor".into(),
        grants: set(&["Magento_Customer::manage"]),
        attributes: BTreeMap::new(),
    };
    admin
        .attributes
        .insert("last_login_days".into(), 120.into());
    admin.attributes.insert("external".into(), true.into());
    let snap = Snapshot {
        platform: Platform::Magento,
        principals: vec![integ, admin],
        complete: true,
        settings: BTreeMap::from([("bearer_tokens_enabled".to_owned(), true.into())]),
    };
    let kinds: BTreeSet<_> = evaluate(None, &snap, &Policy::default(), &BTreeSet::new())
        .iter()
        .map(|f| f.kind)
        .collect();
    for k in [
        FindingKind::AllResources,
        FindingKind::BearerTokensEnabled,
        FindingKind::StaleAdmin,
        FindingKind::ExternalAdmin,
        FindingKind::NotAllowListed,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
}

#[test]
fn an_accepted_risk_reopens_when_it_expires_or_the_grant_grows() {
    let before = shop(vec![app("crm", &["read_customers"])]);
    let f1 = evaluate(None, &before, &Policy::default(), &BTreeSet::new()).remove(0);
    assert_eq!(f1.kind, FindingKind::NotAllowListed);
    let accepted = Decision::AcceptRisk {
        justification: "CRM sync contracted under DPA".into(),
        until_ms: 1_000,
        grants_hash: grants_hash(&f1.grants),
    };
    assert_eq!(state(Some(&accepted), &f1, 999), FindingState::RiskAccepted);
    assert_eq!(
        state(Some(&accepted), &f1, 1_000),
        FindingState::Open,
        "expired"
    );

    let after = shop(vec![app(
        "crm",
        &["read_customers", "read_customer_payment_methods"],
    )]);
    let f2 = evaluate(Some(&before), &after, &Policy::default(), &BTreeSet::new())
        .into_iter()
        .find(|f| f.kind == FindingKind::NotAllowListed)
        .unwrap();
    assert_eq!(f2.key, f1.key, "same finding identity across runs");
    assert_eq!(
        state(Some(&accepted), &f2, 10),
        FindingState::Open,
        "grant grew"
    );
    assert_eq!(state(None, &f2, 10), FindingState::Open);
    assert_eq!(
        state(Some(&Decision::MarkForRevocation), &f2, 10),
        FindingState::RevocationRequested
    );
}

#[test]
fn a_new_unlisted_principal_keeps_its_finding_key_at_the_next_run() {
    let before = shop(vec![]);
    let first = shop(vec![app("spy", &["read_customers"])]);
    let new = evaluate(Some(&before), &first, &Policy::default(), &BTreeSet::new());
    assert_eq!(new[0].kind, FindingKind::NewPrincipalWithPii);
    let standing = evaluate(Some(&first), &first, &Policy::default(), &BTreeSet::new());
    assert_eq!(standing[0].kind, FindingKind::NotAllowListed);
    assert_eq!(new[0].key, standing[0].key);
    for k in FindingKind::ALL {
        assert_eq!(FindingKind::parse(k.as_str()), Some(k));
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    for l in [
        Level::None,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ] {
        assert_eq!(Level::parse(l.as_str()), Some(l));
    }
}

#[test]
fn an_incomplete_audit_says_so() {
    let mut snap = shop(vec![]);
    snap.complete = false;
    let findings = evaluate(None, &snap, &Policy::default(), &BTreeSet::new());
    assert_eq!(findings[0].kind, FindingKind::IncompleteAudit);
}
