//! The outbox: every outward event (a permission finding opened or resolved, a retention
//! finding) is written in the same transaction as its cause, one row per destination of the
//! tenant ([`Recipients::enqueue`]), and delivered later by the leased `outbox_delivery` job
//! ([`worker`]). So an event exists exactly when its cause committed, and a crash loses none:
//! a row claimed by a worker that died is due again when its lease ends.
//!
//! What a destination may see: the event envelope ([`Envelope`]: id, type, tenant, time,
//! subject, severity, a title and counts or codes in `data`). Never a customer's personal
//! datum, an admin's name or a credential; causes build their [`Event`] from kinds, codes,
//! severities and ids only.
//!
//! Delivery is at least once. Duplicates (a crash between the send and the `delivered` mark)
//! carry the same event id and idempotency key: PagerDuty absorbs them by `dedup_key`;
//! syslog receivers cannot, so each syslog message carries the event id for the SIEM to
//! de-duplicate on.
//!
//! Must not: call a destination inside a database transaction, or take `AppState`.
//! [`destinations`] configures where events go, [`targets`] speaks each protocol, [`net`]
//! decides which addresses may be reached.

pub mod destinations;
pub mod entries;
pub mod net;
pub mod targets;
pub mod worker;

pub use destinations::{DestinationView, NewDestination, TestResult};
pub use entries::{EntryFilter, EntryPage, EntryView};
pub use worker::{DeliveryReport, deliver_due};

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::audit_chain::AuditError;
use crate::config::{OutboundSettings, Settings};
use crate::crypto::Keyring;
use crate::db::entities::{outbound_destinations, outbox};
use crate::invalid_input::InvalidInput;
use crate::metrics::Metrics;
use crate::secrets::SecretError;
use crate::tenancy::{TenantCtx, scoped};

pub use outbox::{EventType, State};

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// Bad input, with its reason and a message safe to show.
    #[error("{0}")]
    Invalid(InvalidInput),
    /// Not found (or another tenant's).
    #[error("not found")]
    NotFound,
    /// The caller's role may not manage destinations.
    #[error("your role does not allow this")]
    Forbidden,
    /// The entry is being delivered right now.
    #[error("{0}")]
    Conflict(&'static str),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<InvalidInput> for OutboxError {
    fn from(e: InvalidInput) -> Self {
        Self::Invalid(e)
    }
}

impl From<DbErr> for OutboxError {
    fn from(e: DbErr) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<AuditError> for OutboxError {
    fn from(e: AuditError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<SecretError> for OutboxError {
    fn from(e: SecretError) -> Self {
        Self::Unexpected(e.into())
    }
}

impl From<serde_json::Error> for OutboxError {
    fn from(e: serde_json::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

/// What the outbox services and the delivery job are given.
#[derive(Clone)]
pub struct Outbound {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Opens the destinations' sealed credentials.
    pub keyring: Keyring,
    /// `outbound.*`.
    pub settings: OutboundSettings,
    /// Speaks the destinations' protocols.
    pub sender: targets::Sender,
    /// Delivery counters and queue gauges.
    pub metrics: Metrics,
}

impl Outbound {
    /// The handle for a server with these settings.
    pub fn new(
        db: DatabaseConnection,
        keyring: Keyring,
        settings: &Settings,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let hostname = settings
            .public_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "leakguard".to_owned());
        Ok(Self {
            sender: targets::Sender::new(&settings.outbound, hostname)?,
            db,
            keyring,
            settings: settings.outbound.clone(),
            metrics,
        })
    }

    /// The address rule of this server.
    pub fn policy(&self) -> net::AddressPolicy {
        self.sender.policy
    }
}

/// How urgent an event is, on one scale for every target (each maps it to its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = OutboxEventSeverity)]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The severity of a stored finding level (`none`, `low`, … `critical`).
    pub fn of_level(level: &str) -> Self {
        match level {
            "critical" => Self::Critical,
            "high" => Self::High,
            "medium" => Self::Medium,
            "low" => Self::Low,
            _ => Self::Info,
        }
    }

    /// The sent form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// What a cause hands the outbox. Only kinds, codes, counts and ids: no personal datum.
#[derive(Clone, Debug)]
pub struct Event {
    /// What happened.
    pub event_type: EventType,
    /// What it is about (`permission_finding`, `finding`).
    pub subject_kind: &'static str,
    /// The id of what it is about.
    pub subject_id: String,
    /// How urgent.
    pub severity: Severity,
    /// One line for a pager or a ticket summary.
    pub title: String,
    /// Details (counts, codes, kinds).
    pub data: Value,
    /// Unique per event and destination: writing the same event twice queues it once.
    pub idempotency_key: String,
    /// Unix ms.
    pub occurred_at: i64,
}

/// The subject of an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSubject {
    /// Kind of object.
    pub kind: String,
    /// Its id.
    pub id: String,
}

/// An event as stored in the outbox and rendered by each target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Event id (the same for every destination of one event).
    pub id: Uuid,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The tenant.
    pub tenant_id: Uuid,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    pub occurred_at: i64,
    /// What it is about.
    pub subject: EnvelopeSubject,
    /// How urgent.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details.
    pub data: Value,
}

impl Envelope {
    /// The key that stays the same across every event about one subject (PagerDuty's
    /// `dedup_key`, a ticket's label).
    pub fn subject_key(&self) -> String {
        format!(
            "leakguard/{}/{}/{}",
            self.tenant_id, self.subject.kind, self.subject.id
        )
    }

    /// The test event of a destination.
    pub fn test(tenant_id: Uuid, now_ms: i64) -> Self {
        let id = Uuid::now_v7();
        Self {
            id,
            event_type: EventType::Test,
            tenant_id,
            occurred_at: now_ms,
            subject: EnvelopeSubject {
                kind: "test".into(),
                id: id.to_string(),
            },
            severity: Severity::Info,
            title: "LeakGuard test event".into(),
            data: serde_json::json!({}),
        }
    }
}

/// The destinations of one tenant, loaded once per transaction that writes events.
pub struct Recipients {
    tenant_id: Uuid,
    destinations: Vec<Uuid>,
}

impl Recipients {
    /// The tenant's destinations, read inside the caller's transaction.
    pub async fn load<C: ConnectionTrait>(txn: &C, ctx: &TenantCtx) -> Result<Self, DbErr> {
        let destinations = scoped::<outbound_destinations::Entity>(ctx)
            .all(txn)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        Ok(Self {
            tenant_id: ctx.tenant_id().as_uuid(),
            destinations,
        })
    }

    /// Writes `event` for every destination, in the caller's transaction. Returns the rows
    /// written (an idempotency key seen before for a destination writes nothing).
    pub async fn enqueue<C: ConnectionTrait>(&self, txn: &C, event: Event) -> Result<u64, DbErr> {
        if self.destinations.is_empty() {
            return Ok(0);
        }
        let envelope = Envelope {
            id: Uuid::now_v7(),
            event_type: event.event_type,
            tenant_id: self.tenant_id,
            occurred_at: event.occurred_at,
            subject: EnvelopeSubject {
                kind: event.subject_kind.into(),
                id: event.subject_id.clone(),
            },
            severity: event.severity,
            title: event.title,
            data: event.data,
        };
        let payload = serde_json::to_string(&envelope)
            .map_err(|e| DbErr::Custom(format!("outbox payload: {e}")))?;
        let ordering_key = format!("{}:{}", event.subject_kind, event.subject_id);
        let mut written = 0;
        for destination in &self.destinations {
            written += outbox::Entity::insert(outbox::ActiveModel {
                tenant_id: Set(self.tenant_id),
                id: Set(Uuid::now_v7()),
                destination_id: Set(*destination),
                event_id: Set(envelope.id),
                event_type: Set(event.event_type),
                ordering_key: Set(ordering_key.clone()),
                idempotency_key: Set(event.idempotency_key.clone()),
                payload: Set(payload.clone()),
                state: Set(State::Queued),
                attempts: Set(0),
                next_attempt_at: Set(event.occurred_at),
                lease_until: Set(None),
                last_error: Set(None),
                created_at: Set(event.occurred_at),
                delivered_at: Set(None),
            })
            .on_conflict(
                OnConflict::columns([
                    outbox::Column::TenantId,
                    outbox::Column::DestinationId,
                    outbox::Column::IdempotencyKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        }
        Ok(written)
    }
}
