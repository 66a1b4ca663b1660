//! Typed states: every state, kind, role and source column holds only its closed set on both
//! backends, the Rust enums name exactly the values the database accepts, and the migration
//! that added the checks keeps the rows written before it.

use app_server::db::entities::{
    agent_aggregates, alert_events, alert_suppressions, alerts, detection_inputs, findings,
    incident_events, incident_reminders, incidents, job_runs, outbound_destinations, outbox,
    perm_audit_runs, perm_reviews, replay_guards, retention_runs, shopify_compliance_requests,
    signals, tenants, users, webhook_deliveries,
};
use app_server::enrollment::TokenKind;
use app_server::tenancy::Role;
use leakguard_domain::permissions::{FindingKind, Level};
use migrations::{
    ALERT_CHECKS, INCIDENT_CHECKS, INCIDENT_REMINDER_CHECKS, MigratorTrait, OUTBOX_CHECKS,
    TYPED_STATE_CHECKS,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    EntityTrait, Iterable, Set, Statement,
};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::helpers::{Backend, TestDb};

const TYPED_STATES: &str = "m20261205_000300_typed_states";

fn values<E: ActiveEnum<Value = String> + Iterable>() -> BTreeSet<String> {
    E::iter().map(|v| v.to_value()).collect()
}

/// The check in force: a later migration's check of a column replaces an earlier one.
fn check_of(table: &str, column: &str) -> BTreeSet<String> {
    TYPED_STATE_CHECKS
        .iter()
        .chain(INCIDENT_CHECKS)
        .chain(ALERT_CHECKS)
        .chain(INCIDENT_REMINDER_CHECKS)
        .chain(OUTBOX_CHECKS)
        .rfind(|(t, c, _)| *t == table && *c == column)
        .unwrap_or_else(|| panic!("{table}.{column} has no check"))
        .2
        .iter()
        .map(|v| (*v).to_owned())
        .collect()
}

#[test]
fn every_typed_column_accepts_exactly_the_values_of_its_rust_enum() {
    let typed = [
        ("tenants", "platform", values::<tenants::Platform>()),
        ("tenants", "status", values::<tenants::Status>()),
        ("users", "role", values::<Role>()),
        ("enrollment_tokens", "kind", values::<TokenKind>()),
        (
            "webhook_deliveries",
            "source",
            values::<webhook_deliveries::Source>(),
        ),
        (
            "webhook_deliveries",
            "status",
            values::<webhook_deliveries::Status>(),
        ),
        ("job_runs", "status", values::<job_runs::Status>()),
        ("findings", "kind", values::<findings::Kind>()),
        ("findings", "severity", values::<findings::Severity>()),
        ("findings", "status", values::<findings::Status>()),
        (
            "retention_runs",
            "source",
            values::<retention_runs::Source>(),
        ),
        (
            "shopify_compliance_requests",
            "topic",
            values::<shopify_compliance_requests::Topic>(),
        ),
        (
            "shopify_compliance_requests",
            "status",
            values::<shopify_compliance_requests::Status>(),
        ),
        (
            "perm_audit_runs",
            "status",
            values::<perm_audit_runs::Status>(),
        ),
        (
            "perm_reviews",
            "decision",
            values::<perm_reviews::Decision>(),
        ),
        (
            "perm_reviews",
            "ticket_status",
            values::<perm_reviews::TicketStatus>(),
        ),
        ("signals", "source", values::<signals::Source>()),
        (
            "agent_aggregates",
            "kind",
            values::<agent_aggregates::Kind>(),
        ),
        ("replay_guards", "scope", values::<replay_guards::Scope>()),
        ("incidents", "severity", values::<incidents::Severity>()),
        ("incidents", "status", values::<incidents::Status>()),
        ("incident_events", "kind", values::<incident_events::Kind>()),
        (
            "detection_inputs",
            "source",
            values::<detection_inputs::Source>(),
        ),
        ("alerts", "rule", values::<alerts::Rule>()),
        ("alerts", "severity", values::<alerts::Severity>()),
        ("alerts", "state", values::<alerts::State>()),
        ("alert_events", "kind", values::<alert_events::Kind>()),
        (
            "alert_suppressions",
            "scope",
            values::<alert_suppressions::Scope>(),
        ),
        (
            "incident_reminders",
            "kind",
            values::<incident_reminders::Kind>(),
        ),
        (
            "incident_reminders",
            "audience",
            values::<incident_reminders::Audience>(),
        ),
        (
            "outbound_destinations",
            "kind",
            values::<outbound_destinations::Kind>(),
        ),
        ("outbox", "state", values::<outbox::State>()),
        ("outbox", "event_type", values::<outbox::EventType>()),
        (
            "perm_findings",
            "kind",
            FindingKind::ALL
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
        ),
        (
            "perm_findings",
            "severity",
            [
                Level::None,
                Level::Low,
                Level::Medium,
                Level::High,
                Level::Critical,
            ]
            .iter()
            .map(|l| l.as_str().to_owned())
            .collect(),
        ),
    ];
    for (table, column, rust) in &typed {
        assert_eq!(
            &check_of(table, column),
            rust,
            "{table}.{column}: the database check and the Rust enum disagree"
        );
    }
}

async fn connect_before_typed_states(db: &TestDb) -> DatabaseConnection {
    let conn = Database::connect(&db.url).await.unwrap();
    let before = migrations::Migrator::migrations()
        .iter()
        .position(|m| m.name() == TYPED_STATES)
        .expect("the typed-states migration is registered");
    migrations::Migrator::up(&conn, Some(u32::try_from(before).unwrap()))
        .await
        .unwrap();
    conn
}

/// Runs raw SQL with `?` placeholders rewritten for PostgreSQL.
async fn exec(conn: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> bool {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
        _ => sql.to_owned(),
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .is_ok()
}

async fn rows_survive_and_bad_values_are_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let conn = connect_before_typed_states(&db).await;

    // Rows written before the checks existed, one per kind of value.
    let tenant = tenants::ActiveModel {
        id: Set(Uuid::now_v7()),
        platform: Set(tenants::Platform::Magento),
        shop_domain: Set(None),
        base_url: Set(Some("https://shop.example".into())),
        status: Set(tenants::Status::Uninstalled),
        created_at: Set(1),
        installed_at: Set(Some(1)),
        uninstalled_at: Set(Some(2)),
        purged_at: Set(None),
    }
    .insert(&conn)
    .await
    .unwrap();
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.id),
        external_id: Set("legal-1".into()),
        display_name: Set("Legal".into()),
        role: Set(Role::Legal),
        created_at: Set(1),
        deactivated_at: Set(None),
    }
    .insert(&conn)
    .await
    .unwrap();
    let delivery = webhook_deliveries::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(Some(tenant.id)),
        source: Set(webhook_deliveries::Source::Shopify),
        delivery_id: Set("d-1".into()),
        topic: Set("orders/create".into()),
        shop_domain: Set("a.myshopify.com".into()),
        received_at: Set(1),
        status: Set(webhook_deliveries::Status::Dead),
        attempts: Set(9),
        next_attempt_at: Set(1),
        last_error: Set(None),
        payload: Set(None),
    }
    .insert(&conn)
    .await
    .unwrap();

    migrations::migrate(&conn).await.unwrap();

    assert_eq!(
        tenants::Entity::find_by_id(tenant.id)
            .one(&conn)
            .await
            .unwrap(),
        Some(tenant.clone()),
        "the tenant survives the migration unchanged"
    );
    assert_eq!(
        users::Entity::find_by_id(user.id).one(&conn).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        webhook_deliveries::Entity::find_by_id(delivery.id)
            .one(&conn)
            .await
            .unwrap(),
        Some(delivery.clone())
    );

    // A value outside the set is refused on update and on insert, and nothing changes.
    assert!(
        !exec(
            &conn,
            "UPDATE tenants SET status = ? WHERE id = ?",
            vec!["suspended".into(), tenant.id.into()],
        )
        .await,
        "tenants.status = 'suspended' must be refused"
    );
    assert!(
        !exec(
            &conn,
            "INSERT INTO users (id, tenant_id, external_id, display_name, role, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                Uuid::now_v7().into(),
                tenant.id.into(),
                "root".into(),
                "Root".into(),
                "superuser".into(),
                1_i64.into(),
            ],
        )
        .await,
        "users.role = 'superuser' must be refused"
    );
    assert!(
        !exec(
            &conn,
            "UPDATE webhook_deliveries SET status = ? WHERE id = ?",
            vec!["Processed".into(), delivery.id.into()],
        )
        .await,
        "the check is case-sensitive"
    );
    assert_eq!(
        tenants::Entity::find_by_id(tenant.id)
            .one(&conn)
            .await
            .unwrap(),
        Some(tenant.clone())
    );
    assert_eq!(users::Entity::find().all(&conn).await.unwrap(), vec![user]);

    // Values inside the set still go through the same statements.
    assert!(
        exec(
            &conn,
            "UPDATE tenants SET status = ? WHERE id = ?",
            vec!["purged".into(), tenant.id.into()],
        )
        .await
    );
    assert!(
        exec(
            &conn,
            "INSERT INTO users (id, tenant_id, external_id, display_name, role, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                Uuid::now_v7().into(),
                tenant.id.into(),
                "viewer-1".into(),
                "Viewer".into(),
                "viewer".into(),
                1_i64.into(),
            ],
        )
        .await
    );

    // Every listed column carries its check.
    let backend = conn.get_database_backend();
    for (table, column, _) in TYPED_STATE_CHECKS
        .iter()
        .chain(INCIDENT_CHECKS)
        .chain(INCIDENT_REMINDER_CHECKS)
        .chain(OUTBOX_CHECKS)
    {
        let (sql, expected) = match backend {
            DbBackend::Postgres => (
                format!(
                    "SELECT COUNT(*) AS n FROM pg_constraint WHERE conname = 'ck_{table}_{column}'"
                ),
                1,
            ),
            _ => (
                format!(
                    "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' \
                     AND name IN ('tg_{table}_{column}_insert', 'tg_{table}_{column}_update')"
                ),
                2,
            ),
        };
        let n: i64 = conn
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        assert_eq!(n, expected, "{table}.{column} has no check");
    }
}

async fn the_migration_refuses_to_run_over_a_value_outside_the_set(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let conn = connect_before_typed_states(&db).await;
    let id = Uuid::now_v7();
    assert!(
        exec(
            &conn,
            "INSERT INTO tenants (id, platform, status, created_at) VALUES (?, ?, ?, ?)",
            vec![
                id.into(),
                "shopify".into(),
                "suspended".into(),
                1_i64.into()
            ],
        )
        .await,
        "before the migration any text goes in"
    );
    let err = migrations::migrate(&conn)
        .await
        .expect_err("the migration must refuse the row");
    assert!(
        err.to_string().contains("tenants.status"),
        "the error names the column: {err}"
    );
    let pending = migrations::pending(&conn).await.unwrap();
    assert!(
        pending.iter().any(|m| m == TYPED_STATES),
        "the migration is not recorded as applied"
    );
}

async fn incident_states_refuse_values_outside_their_set(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let conn = Database::connect(&db.url).await.unwrap();
    migrations::migrate(&conn).await.unwrap();
    let tenant = Uuid::now_v7();
    let insert = |severity: &'static str, status: &'static str| {
        let conn = conn.clone();
        async move {
            exec(
                &conn,
                "INSERT INTO incidents (tenant_id, id, title, severity, status, discovered_at, \
                 residents, countries, encrypted, key_compromised, created_by, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    tenant.into(),
                    Uuid::now_v7().into(),
                    "t".into(),
                    severity.into(),
                    status.into(),
                    "2026-03-02".into(),
                    "{}".into(),
                    "{}".into(),
                    false.into(),
                    false.into(),
                    "user:x".into(),
                    1_i64.into(),
                    1_i64.into(),
                ],
            )
            .await
        }
    };
    assert!(!insert("high", "archived").await, "an unknown status");
    assert!(!insert("severe", "triage").await, "an unknown severity");
    assert!(insert("high", "triage").await);
    assert!(
        !exec(
            &conn,
            "UPDATE incidents SET status = ? WHERE tenant_id = ?",
            vec!["archived".into(), tenant.into()],
        )
        .await
    );
    let event = |kind: &'static str| {
        let conn = conn.clone();
        async move {
            exec(
                &conn,
                "INSERT INTO incident_events (tenant_id, id, incident_id, kind, actor, at, detail) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    tenant.into(),
                    Uuid::now_v7().into(),
                    Uuid::now_v7().into(),
                    kind.into(),
                    "user:x".into(),
                    1_i64.into(),
                    "{}".into(),
                ],
            )
            .await
        }
    };
    assert!(!event("exploded").await);
    assert!(event("note").await);
    assert!(
        event("reminder").await && event("notice_sent").await,
        "the widened check takes the kinds added after it"
    );
    let reminder = |kind: &'static str, audience: &'static str| {
        let conn = conn.clone();
        async move {
            exec(
                &conn,
                "INSERT INTO incident_reminders (tenant_id, id, incident_id, jurisdiction, \
                 audience, recipient, due, kind, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    tenant.into(),
                    Uuid::now_v7().into(),
                    Uuid::now_v7().into(),
                    "US-CA".into(),
                    audience.into(),
                    "".into(),
                    "2026-04-01".into(),
                    kind.into(),
                    1_i64.into(),
                ],
            )
            .await
        }
    };
    assert!(!reminder("due_in_2_days", "individuals").await);
    assert!(!reminder("overdue", "press").await);
    assert!(reminder("overdue", "individuals").await);
}

crate::on_both_backends!(
    incident_states_refuse_values_outside_their_set,
    rows_survive_and_bad_values_are_refused,
    the_migration_refuses_to_run_over_a_value_outside_the_set,
);
