//! Scenario tests of the engine: one per rule family, the benign counterparts, feedback,
//! state round trips, and a property test that odd input never panics.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::alert::{Alert, RuleId, Severity};
use super::engine::Engine;
use super::feedback::SuppressionScope;
use super::rules::RuleConfig;
use super::signal::{Category, CategorySet, Identity, PrincipalKey, Signal, SignalKind};
use super::state::EngineState;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2026-11-02T00:00:00Z, a Monday.
const T0: i64 = 1_793_577_600;

fn admin(id: &str) -> Identity {
    Identity {
        db_user: Some("magento".into()),
        db_host: Some("127.0.0.1".into()),
        admin_user_id: Some(id.into()),
        ..Identity::default()
    }
}

fn db(user: &str) -> Identity {
    Identity {
        db_user: Some(user.into()),
        db_host: Some("localhost".into()),
        ..Identity::default()
    }
}

fn signal(
    at: i64,
    identity: &Identity,
    kind: SignalKind,
    category: Category,
    count: u64,
) -> Signal {
    static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Signal {
        id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        at,
        identity: identity.clone(),
        kind,
        categories: CategorySet::of(category),
        tables: vec!["customer_entity".into()],
        count,
        rows: None,
        ip: None,
        scopes_added: Vec::new(),
    }
}

/// Feeds two weeks of office-hours activity by admin 7 (40 statements an hour on customers)
/// and a storefront account, one signal per 10 minutes.
fn warmed_engine() -> Engine {
    warmed_engine_with(|_, _| {})
}

fn warmed_engine_with(extra: impl Fn(i64, &mut Engine)) -> Engine {
    let mut engine = Engine::new(RuleConfig::default());
    let admin7 = admin("7");
    let store = db("magento");
    for day in 0..14 {
        for minute in (0..24 * 60).step_by(10) {
            let at = T0 + day * DAY + minute * 60;
            engine.ingest(&signal(
                at,
                &store,
                SignalKind::SqlAccess,
                Category::Customer,
                50,
            ));
            let hour = minute / 60;
            if day % 7 < 5 && (9..17).contains(&hour) {
                engine.ingest(&signal(
                    at,
                    &admin7,
                    SignalKind::SqlAccess,
                    Category::Customer,
                    7,
                ));
            }
        }
        extra(day, &mut engine);
    }
    engine
}

fn alerts(engine: &mut Engine) -> Vec<Alert> {
    engine.finish()
}

#[test]
fn ordinary_weeks_raise_no_alert() {
    let mut engine = warmed_engine();
    assert!(alerts(&mut engine).is_empty());
}

#[test]
fn an_admin_reading_thirty_times_their_hour_at_night_is_mass_extraction() {
    let mut engine = warmed_engine();
    let at = T0 + 14 * DAY + 2 * HOUR;
    for minute in 0..50 {
        engine.ingest(&signal(
            at + minute * 60,
            &admin("7"),
            SignalKind::SqlAccess,
            Category::Customer,
            30,
        ));
    }
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 1, "{found:?}");
    let alert = &found[0];
    assert_eq!(alert.rule, RuleId::MassExtraction);
    assert_eq!(alert.key, PrincipalKey::Admin("7".into()));
    assert!(
        alert.detected_at - at <= 10 * 60,
        "late: {}",
        alert.detected_at - at
    );
    assert_eq!(alert.records_estimate, 1_500);
    let text = alert.explanation();
    assert!(
        text.starts_with("admin 7 read 1,500 statements on customer data"),
        "{text}"
    );
    assert!(text.contains("x their usual hour"), "{text}");
}

#[test]
fn a_new_database_account_reading_customers_is_first_seen() {
    let mut engine = warmed_engine();
    let at = T0 + 14 * DAY + 15 * HOUR;
    engine.ingest(&signal(
        at,
        &db("report"),
        SignalKind::SqlAccess,
        Category::Customer,
        1,
    ));
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, RuleId::FirstSeenPrincipal);
    assert_eq!(found[0].severity, Severity::High);
}

#[test]
fn a_nightly_backup_is_learned_and_a_daytime_dump_alerts() {
    let mut engine = warmed_engine();
    let backup = db("backup");
    for night in 0..5 {
        let at = T0 + 14 * DAY + night * DAY + 2 * HOUR + (night % 2) * 300;
        for table in 0..5 {
            engine.ingest(&signal(
                at + table * 30,
                &backup,
                SignalKind::Dump,
                Category::Customer,
                1,
            ));
        }
    }
    let first_nights = engine.take_closed();
    let mut found: Vec<Alert> = first_nights;
    found.extend(engine.open_alerts().cloned());
    assert_eq!(found.len(), 1, "only the first dump ever alerts: {found:?}");
    assert_eq!(found[0].severity, Severity::Medium);
    engine.finish();
    let at = T0 + 19 * DAY + 14 * HOUR;
    engine.ingest(&signal(
        at,
        &backup,
        SignalKind::Dump,
        Category::Customer,
        1,
    ));
    let attacker = db("shop_ro");
    engine.ingest(&signal(
        at + DAY,
        &attacker,
        SignalKind::Dump,
        Category::Customer,
        1,
    ));
    let found = alerts(&mut engine);
    let dumps: Vec<&Alert> = found
        .iter()
        .filter(|a| a.rule == RuleId::UnexpectedDump)
        .collect();
    assert_eq!(dumps.len(), 2, "{found:?}");
    assert!(dumps.iter().all(|a| a.severity == Severity::High));
    assert!(
        dumps[0]
            .explanation()
            .contains("off the learned backup schedule"),
        "{}",
        dumps[0].explanation()
    );
}

#[test]
fn outfile_and_logging_off_alert_at_once_and_grow_as_one_episode() {
    let mut engine = Engine::new(RuleConfig::default());
    let who = db("magento");
    for i in 0..3 {
        engine.ingest(&signal(
            T0 + i * 60,
            &who,
            SignalKind::IntoOutfile,
            Category::Customer,
            1,
        ));
    }
    engine.ingest(&signal(
        T0 + 600,
        &who,
        SignalKind::LoggingDisabled,
        Category::Customer,
        1,
    ));
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].rule, RuleId::IntoOutfile);
    assert_eq!(found[0].records_estimate, 3);
    assert_eq!(found[0].evidence.len(), 3);
    assert_eq!(found[1].rule, RuleId::LoggingDisabled);
}

#[test]
fn a_closed_episode_does_not_grow_and_later_activity_opens_a_new_alert() {
    let mut engine = Engine::new(RuleConfig::default());
    let who = db("magento");
    engine.ingest(&signal(
        T0,
        &who,
        SignalKind::IntoOutfile,
        Category::Customer,
        1,
    ));
    let first = engine.open_alerts().next().cloned().unwrap();
    assert!(engine.close_episode(&first));
    assert!(
        !engine.close_episode(&first),
        "closing twice changes nothing"
    );
    engine.ingest(&signal(
        T0 + 60,
        &who,
        SignalKind::IntoOutfile,
        Category::Customer,
        1,
    ));
    let open: Vec<_> = engine.open_alerts().cloned().collect();
    assert_eq!(open.len(), 1);
    assert_ne!(open[0].id, first.id);
    assert_eq!(open[0].records_estimate, 1);
}

#[test]
fn failed_logins_followed_by_a_success_alert_but_one_typo_does_not() {
    let mut engine = Engine::new(RuleConfig::default());
    let mut failure = signal(
        T0,
        &Identity::default(),
        SignalKind::LoginFailure,
        Category::Customer,
        1,
    );
    failure.categories = CategorySet::EMPTY;
    failure.ip = Some("203.0.113.9".into());
    for i in 0..8 {
        failure.at = T0 + i * 20;
        engine.ingest(&failure);
    }
    let mut success = failure.clone();
    success.kind = SignalKind::LoginSuccess;
    success.identity = admin("4");
    success.at = T0 + 300;
    engine.ingest(&success);
    failure.ip = Some("10.0.0.5".into());
    failure.at = T0 + 4_000;
    engine.ingest(&failure);
    success.ip = failure.ip.clone();
    success.at = T0 + 4_030;
    engine.ingest(&success);
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule, RuleId::LoginBurstThenSuccess);
    assert_eq!(found[0].observed, 8.0);
}

#[test]
fn a_scope_grant_of_customers_alerts_and_of_products_does_not() {
    let mut engine = Engine::new(RuleConfig::default());
    let app = Identity {
        shopify_app_id: Some("55".into()),
        ..Identity::default()
    };
    let mut grant = signal(T0, &app, SignalKind::ScopeGrant, Category::Customer, 1);
    grant.scopes_added = vec!["read_products".into()];
    engine.ingest(&grant);
    grant.scopes_added = vec!["read_customers".into(), "read_orders".into()];
    engine.ingest(&grant);
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .explanation()
            .contains("read_customers, read_orders")
    );
}

#[test]
fn a_first_large_export_after_the_learning_week_alerts_and_a_weekly_one_does_not() {
    let admin3 = admin("3");
    let mut engine = warmed_engine_with(|day, engine| {
        if day % 7 == 0 {
            let at = T0 + day * DAY + 23 * HOUR + 55 * 60;
            engine.ingest(&signal(
                at,
                &admin3,
                SignalKind::Export,
                Category::Order,
                4_000,
            ));
        }
    });
    let at = T0 + 14 * DAY + 23 * HOUR + 50 * 60;
    engine.ingest(&signal(
        at,
        &admin3,
        SignalKind::Export,
        Category::Order,
        4_500,
    ));
    engine.ingest(&signal(
        at + 5 * 60,
        &admin("7"),
        SignalKind::Export,
        Category::Customer,
        20_000,
    ));
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, RuleId::ExportBeyondBaseline);
    assert_eq!(found[0].key, PrincipalKey::Admin("7".into()));
    assert!(
        found[0]
            .explanation()
            .contains("never exported customer data before")
    );
}

#[test]
fn a_daily_drift_over_days_is_low_and_slow() {
    let mut engine = Engine::new(RuleConfig::default());
    let integration = Identity {
        integration_id: Some("9".into()),
        ..Identity::default()
    };
    for day in 0..30 {
        let per_hour = if day >= 20 { 60 } else { 20 };
        for hour in 8..20 {
            let at = T0 + day * DAY + hour * HOUR;
            engine.ingest(&signal(
                at,
                &integration,
                SignalKind::SqlAccess,
                Category::Customer,
                per_hour,
            ));
        }
    }
    let found = alerts(&mut engine);
    let slow: Vec<&Alert> = found
        .iter()
        .filter(|a| a.rule == RuleId::LowAndSlow)
        .collect();
    assert_eq!(slow.len(), 1, "{found:?}");
    assert!(slow[0].detected_at < T0 + 25 * DAY);
    assert!(
        found
            .iter()
            .all(|a| a.rule != RuleId::IntegrationRestVolume)
    );
}

#[test]
fn a_bulk_export_by_a_new_app_alerts_and_a_nightly_sync_seen_on_day_one_is_learned() {
    let mut engine = Engine::new(RuleConfig::default());
    let app = |id: &str| Identity {
        shopify_app_id: Some(id.into()),
        ..Identity::default()
    };
    for night in 0..4 {
        let mut bulk = signal(
            T0 + night * DAY + HOUR,
            &app("77"),
            SignalKind::BulkOperation,
            Category::Order,
            1,
        );
        bulk.rows = Some(900 + night as u64 * 50);
        engine.ingest(&bulk);
    }
    let mut bulk = signal(
        T0 + 3 * DAY + 5 * HOUR,
        &app("88"),
        SignalKind::BulkOperation,
        Category::Customer,
        1,
    );
    bulk.rows = Some(12_000);
    engine.ingest(&bulk);
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, RuleId::ShopifyBulkExport);
    assert_eq!(found[0].key, PrincipalKey::ShopifyApp("88".into()));
    assert_eq!(found[0].severity, Severity::High);
}

#[test]
fn a_false_positive_mark_suppresses_within_scope_until_revoked() {
    let mut engine = warmed_engine();
    let burst = |engine: &mut Engine, day: i64| {
        let at = T0 + day * DAY + 2 * HOUR;
        for minute in 0..30 {
            engine.ingest(&signal(
                at + minute * 60,
                &admin("7"),
                SignalKind::SqlAccess,
                Category::Customer,
                40,
            ));
        }
        engine.advance(at + 5 * HOUR);
        engine.take_closed()
    };
    let first = burst(&mut engine, 14);
    assert_eq!(first.len(), 1);
    let id = engine.mark_false_positive(
        &first[0],
        SuppressionScope {
            principal: Some(first[0].key.clone()),
            rule: Some(RuleId::MassExtraction),
            category: None,
        },
        T0 + 20 * DAY,
        false,
    );
    assert!(burst(&mut engine, 15).is_empty());
    assert_eq!(engine.state().counters.suppressed_findings, 1);
    assert!(engine.revoke_suppression(id));
    assert_eq!(burst(&mut engine, 16).len(), 1);
}

#[test]
fn learned_normal_stops_the_same_volume_alerting_again() {
    let mut engine = warmed_engine();
    let at = T0 + 14 * DAY + 2 * HOUR;
    for minute in 0..30 {
        engine.ingest(&signal(
            at + minute * 60,
            &admin("7"),
            SignalKind::SqlAccess,
            Category::Customer,
            40,
        ));
    }
    engine.advance(at + 5 * HOUR);
    let first = engine.take_closed();
    assert_eq!(first.len(), 1);
    engine.mark_false_positive(
        &first[0],
        SuppressionScope {
            principal: Some(first[0].key.clone()),
            rule: Some(RuleId::LowAndSlow),
            category: None,
        },
        at,
        true,
    );
    for minute in 0..30 {
        engine.ingest(&signal(
            at + 7 * DAY + minute * 60,
            &admin("7"),
            SignalKind::SqlAccess,
            Category::Customer,
            40,
        ));
    }
    assert!(alerts(&mut engine).is_empty());
}

#[test]
fn the_state_round_trips_through_json_and_resumes_alike() {
    let mut engine = warmed_engine();
    let json = serde_json::to_string(engine.state()).unwrap();
    let state: EngineState = serde_json::from_str(&json).unwrap();
    assert_eq!(&state, engine.state());
    let mut resumed = Engine::from_state(RuleConfig::default(), state);
    let at = T0 + 14 * DAY + 2 * HOUR;
    let burst: Vec<Signal> = (0..30)
        .map(|minute| {
            signal(
                at + minute * 60,
                &admin("7"),
                SignalKind::SqlAccess,
                Category::Customer,
                40,
            )
        })
        .collect();
    for engine in [&mut engine, &mut resumed] {
        for signal in &burst {
            engine.ingest(signal);
        }
    }
    let found = alerts(&mut engine);
    assert_eq!(found.len(), 1);
    assert_eq!(found, alerts(&mut resumed));
}

#[test]
fn baseline_state_for_ten_thousand_principals_stays_under_64_mib() {
    let mut engine = Engine::new(RuleConfig::default());
    for principal in 0..10_000_u64 {
        let who = admin(&principal.to_string());
        for (i, category) in [
            Category::Customer,
            Category::Address,
            Category::Order,
            Category::Payment,
        ]
        .into_iter()
        .enumerate()
        {
            for day in 0..2 {
                let at = T0 + day * DAY + (i as i64) * HOUR;
                engine.ingest(&signal(at, &who, SignalKind::SqlAccess, category, 3));
            }
        }
    }
    assert_eq!(engine.state().principals.len(), 10_000);
    let in_memory = engine.state().principal_bytes();
    let serialized = serde_json::to_vec(engine.state()).unwrap().len();
    eprintln!(
        "10,000 principals × 4 categories: {in_memory} bytes in memory, {serialized} bytes as JSON"
    );
    assert!(in_memory < 64 << 20, "in memory {in_memory}");
    assert!(serialized < 64 << 20, "serialized {serialized}");
}

fn arbitrary_signal() -> impl Strategy<Value = Signal> {
    (
        any::<i64>(),
        0..12_u8,
        any::<u8>(),
        any::<u64>(),
        proptest::option::of(any::<u64>()),
        proptest::option::of("[a-z0-9]{0,3}"),
        proptest::option::of("[a-z0-9]{0,3}"),
        proptest::collection::vec("[a-z_:]{0,20}", 0..3),
    )
        .prop_map(
            |(at, kind, categories, count, rows, user, admin_id, scopes)| {
                let kind = [
                    SignalKind::SqlAccess,
                    SignalKind::Dump,
                    SignalKind::IntoOutfile,
                    SignalKind::LoggingDisabled,
                    SignalKind::Export,
                    SignalKind::RecordView,
                    SignalKind::ApiRead,
                    SignalKind::BulkOperation,
                    SignalKind::ScopeGrant,
                    SignalKind::LoginFailure,
                    SignalKind::LoginSuccess,
                    SignalKind::SqlAccess,
                ][usize::from(kind) % 12];
                Signal {
                    id: count % 1000,
                    at: at % (400 * 365 * DAY),
                    identity: Identity {
                        db_user: user,
                        admin_user_id: admin_id,
                        ..Identity::default()
                    },
                    kind,
                    categories: CategorySet(categories),
                    tables: scopes.clone(),
                    count,
                    rows,
                    ip: None,
                    scopes_added: scopes,
                }
            },
        )
}

proptest! {
    #[test]
    fn odd_signals_never_panic_and_the_state_serializes(signals in proptest::collection::vec(arbitrary_signal(), 0..60)) {
        let mut engine = Engine::new(RuleConfig::default());
        for signal in &signals {
            engine.ingest(signal);
        }
        let json = serde_json::to_string(engine.state()).unwrap();
        let _: EngineState = serde_json::from_str(&json).unwrap();
        for alert in engine.finish() {
            prop_assert!(!alert.explanation().is_empty());
        }
    }

    #[test]
    fn odd_lines_never_panic_the_normalizer(line in ".{0,200}") {
        let mut normalizer = super::normalize::Normalizer::default();
        let mut out = Vec::new();
        let _ = normalizer.line(&line, &mut out);
        let wrapped = format!(r#"{{"type":"security_event","kind":"{line}","ts":"{line}","principal":{{}}}}"#);
        let _ = normalizer.line(&wrapped, &mut out);
    }
}
