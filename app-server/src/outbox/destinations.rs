//! A tenant's destinations: create (the credential sealed with `secrets::put` as
//! `destination.<id>`, never shown again), list, read, delete (with its waiting entries and its
//! secret), and "send test event", which tries one delivery now and keeps the health line
//! (last success, last error).
//!
//! Rules: owners and admins manage destinations; every change writes its audit entry in the
//! same transaction, naming the destination but never its secret. A destination whose host
//! resolves to an address [`super::net`] refuses is refused at creation, and again at every
//! connection.

use leakguard_domain::audit::Subject;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::targets::Target;
use super::{Envelope, Outbound, OutboxError, net};
use crate::audit_chain;
use crate::db::entities::{outbound_destinations, outbox};
use crate::db::{begin_write, now_ms};
use crate::invalid_input::{InvalidInput, Reason};
use crate::tenancy::{TenantCtx, scoped};

pub use outbound_destinations::Kind;

/// The secret's name in the secret store.
pub fn secret_name(destination_id: Uuid) -> String {
    format!("destination.{destination_id}")
}

/// Body of `POST /api/v1/destinations`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDestination {
    /// What it is.
    pub kind: Kind,
    /// A name for people, 1 to 100 characters.
    pub name: String,
    /// The kind's settings: `pagerduty` `{"events_url"?}`; `syslog_tls` `{"host", "port"?,
    /// "ca_pem", "format"?: "cef" | "json", "client_cert_pem"?}`; `splunk_hec` `{"url",
    /// "index"?, "sourcetype"?}`; `webhook` `{"url"}`; `jira` `{"base_url", "project_key",
    /// "issue_type", "email"}`; `servicenow` `{"instance_url", "username"}`.
    #[schema(value_type = Object)]
    pub config: Value,
    /// The credential (PagerDuty routing key, HEC token, webhook signing key, Jira API token, ServiceNow password; the syslog
    /// client key when a client certificate is given). Write-only: never shown again.
    #[schema(value_type = Option<String>, write_only)]
    pub secret: Option<SecretString>,
}

/// Body of `PATCH /api/v1/destinations/{id}`: what to change (the kind stays).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestinationPatch {
    /// A new name, 1 to 100 characters.
    pub name: Option<String>,
    /// The kind's whole settings, replacing the old ones.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// A new credential (write-only). Absent: the stored one stays.
    #[schema(value_type = Option<String>, write_only)]
    pub secret: Option<SecretString>,
}

/// A destination's health: the last delivery that worked and the last that did not.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DestinationHealth {
    /// Last delivered event or test (RFC 3339 UTC).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_success_at: Option<i64>,
    /// Last failed attempt (RFC 3339 UTC).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_error_at: Option<i64>,
    /// What went wrong then (no credential in it).
    pub last_error: Option<String>,
}

/// A destination as shown in the API (never its secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DestinationView {
    /// Id.
    pub id: Uuid,
    /// What it is.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Its settings (no credential).
    #[schema(value_type = Object)]
    pub config: Value,
    /// Who created it (`<actor type>:<actor id>`).
    pub created_by: String,
    /// RFC 3339 UTC.
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Last success and last error.
    pub health: DestinationHealth,
}

impl DestinationView {
    fn of(m: outbound_destinations::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            name: m.name,
            config: serde_json::from_str(&m.config).unwrap_or_default(),
            created_by: m.created_by,
            created_at: m.created_at,
            health: DestinationHealth {
                last_success_at: m.last_success_at,
                last_error_at: m.last_error_at,
                last_error: m.last_error,
            },
        }
    }
}

/// Destinations of the tenant.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DestinationList {
    /// Oldest first.
    pub destinations: Vec<DestinationView>,
}

/// The answer of "send test event".
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = DestinationTestResult)]
pub struct TestResult {
    /// The destination took the test event.
    pub delivered: bool,
    /// Why not (no credential in it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn require_admin(ctx: &TenantCtx) -> Result<(), OutboxError> {
    if ctx.role().can_administer() {
        Ok(())
    } else {
        Err(OutboxError::Forbidden)
    }
}

fn invalid(message: impl Into<String>) -> OutboxError {
    InvalidInput::new(Reason::InvalidDestination, message).into()
}

/// Creates a destination (owners, admins).
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn create(
    outbound: &Outbound,
    ctx: &TenantCtx,
    new: NewDestination,
) -> Result<DestinationView, OutboxError> {
    require_admin(ctx)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name must be 1 to 100 characters"));
    }
    let secret = new
        .secret
        .as_ref()
        .map(secrecy::ExposeSecret::expose_secret);
    let target = check_target(outbound, new.kind, &new.config, secret).await?;
    let id = Uuid::now_v7();
    let now = now_ms();
    let actor = ctx.actor();
    let row = outbound_destinations::Model {
        tenant_id: ctx.tenant_id().as_uuid(),
        id,
        kind: new.kind,
        name: name.to_owned(),
        config: target.config_json().to_string(),
        created_by: format!("{}:{}", actor.kind, actor.id),
        created_at: now,
        last_success_at: None,
        last_error_at: None,
        last_error: None,
    };
    let txn = begin_write(&outbound.db).await?;
    outbound_destinations::Entity::insert(outbound_destinations::ActiveModel {
        tenant_id: Set(row.tenant_id),
        id: Set(id),
        kind: Set(row.kind),
        name: Set(row.name.clone()),
        config: Set(row.config.clone()),
        created_by: Set(row.created_by.clone()),
        created_at: Set(now),
        last_success_at: Set(None),
        last_error_at: Set(None),
        last_error: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        crate::secrets::put(
            &txn,
            &outbound.keyring,
            ctx,
            &secret_name(id),
            secret.as_bytes(),
        )
        .await?;
    }
    audit_chain::record(
        &txn,
        ctx,
        "destination.created",
        Subject::new("destination", id.to_string()),
        serde_json::json!({"kind": new.kind.as_str(), "name": row.name}),
    )
    .await?;
    txn.commit().await?;
    Ok(DestinationView::of(row))
}

/// Checks a destination's settings and credential as a whole, then its address.
async fn check_target(
    outbound: &Outbound,
    kind: Kind,
    config: &Value,
    secret: Option<&str>,
) -> Result<Target, OutboxError> {
    let target = Target::parse(kind, config).map_err(invalid)?;
    target.check_secret(secret).map_err(invalid)?;
    let (host, port) = target.endpoint().map_err(invalid)?;
    net::resolve(outbound.policy(), &host, port)
        .await
        .map_err(|e| {
            if e == net::REFUSED {
                OutboxError::from(InvalidInput::new(Reason::DestinationAddressRefused, e))
            } else {
                invalid(e)
            }
        })?;
    Ok(target)
}

/// Changes a destination's name, settings or credential (owners, admins). The settings are
/// checked with the credential that will be used; new settings meet the address rule again.
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn update(
    outbound: &Outbound,
    ctx: &TenantCtx,
    id: Uuid,
    patch: DestinationPatch,
) -> Result<DestinationView, OutboxError> {
    require_admin(ctx)?;
    let current = load(outbound, ctx, id).await?;
    let name = match patch.name.as_deref().map(str::trim) {
        Some(n) if n.is_empty() || n.chars().count() > 100 => {
            return Err(invalid("name must be 1 to 100 characters"));
        }
        Some(n) => n.to_owned(),
        None => current.name.clone(),
    };
    let config = match patch.config.clone() {
        Some(c) => c,
        None => serde_json::from_str(&current.config)?,
    };
    let stored = match &patch.secret {
        Some(_) => None,
        None => crate::secrets::get(&outbound.db, &outbound.keyring, ctx, &secret_name(id)).await?,
    };
    let secret: Option<&str> = match &patch.secret {
        Some(s) => Some(secrecy::ExposeSecret::expose_secret(s)),
        None => stored.as_ref().map(secrecy::ExposeSecret::expose_secret),
    };
    let config_changed = patch.config.is_some();
    let target = if config_changed {
        check_target(outbound, current.kind, &config, secret).await?
    } else {
        // The address rule applies again at every connection; a rename does not resolve.
        let target = Target::parse(current.kind, &config).map_err(invalid)?;
        target.check_secret(secret).map_err(invalid)?;
        target
    };
    let config_text = target.config_json().to_string();
    let txn = begin_write(&outbound.db).await?;
    outbound_destinations::Entity::update_many()
        .col_expr(
            outbound_destinations::Column::Name,
            sea_orm::sea_query::Expr::value(name.clone()),
        )
        .col_expr(
            outbound_destinations::Column::Config,
            sea_orm::sea_query::Expr::value(config_text.clone()),
        )
        .filter(outbound_destinations::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(outbound_destinations::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if let Some(secret) = patch
        .secret
        .as_ref()
        .map(secrecy::ExposeSecret::expose_secret)
    {
        crate::secrets::put(
            &txn,
            &outbound.keyring,
            ctx,
            &secret_name(id),
            secret.as_bytes(),
        )
        .await?;
    }
    audit_chain::record(
        &txn,
        ctx,
        "destination.updated",
        Subject::new("destination", id.to_string()),
        serde_json::json!({"name": name, "secret_replaced": patch.secret.is_some()}),
    )
    .await?;
    txn.commit().await?;
    Ok(DestinationView::of(outbound_destinations::Model {
        name,
        config: config_text,
        ..current
    }))
}

/// The tenant's destinations (owners, admins).
pub async fn list(outbound: &Outbound, ctx: &TenantCtx) -> Result<DestinationList, OutboxError> {
    require_admin(ctx)?;
    let rows = scoped::<outbound_destinations::Entity>(ctx)
        .order_by_asc(outbound_destinations::Column::Id)
        .all(&outbound.db)
        .await?;
    Ok(DestinationList {
        destinations: rows.into_iter().map(DestinationView::of).collect(),
    })
}

async fn load(
    outbound: &Outbound,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<outbound_destinations::Model, OutboxError> {
    scoped::<outbound_destinations::Entity>(ctx)
        .filter(outbound_destinations::Column::Id.eq(id))
        .one(&outbound.db)
        .await?
        .ok_or(OutboxError::NotFound)
}

/// One destination (owners, admins).
pub async fn get(
    outbound: &Outbound,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<DestinationView, OutboxError> {
    require_admin(ctx)?;
    Ok(DestinationView::of(load(outbound, ctx, id).await?))
}

/// Deletes a destination with its secret and the entries that wait for it (owners, admins).
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn delete(outbound: &Outbound, ctx: &TenantCtx, id: Uuid) -> Result<(), OutboxError> {
    require_admin(ctx)?;
    let tenant = ctx.tenant_id().as_uuid();
    let txn = begin_write(&outbound.db).await?;
    let removed = outbound_destinations::Entity::delete_many()
        .filter(outbound_destinations::Column::TenantId.eq(tenant))
        .filter(outbound_destinations::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(OutboxError::NotFound);
    }
    let entries = outbox::Entity::delete_many()
        .filter(outbox::Column::TenantId.eq(tenant))
        .filter(outbox::Column::DestinationId.eq(id))
        .exec(&txn)
        .await?;
    crate::secrets::delete(&txn, ctx, &secret_name(id)).await?;
    audit_chain::record(
        &txn,
        ctx,
        "destination.deleted",
        Subject::new("destination", id.to_string()),
        serde_json::json!({"entries_removed": entries.rows_affected}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sends one test event now and answers how it went; the health line keeps the outcome
/// (owners, admins).
#[tracing::instrument(skip_all, fields(tenant_id = %ctx.tenant_id()))]
pub async fn send_test(
    outbound: &Outbound,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<TestResult, OutboxError> {
    require_admin(ctx)?;
    let destination = load(outbound, ctx, id).await?;
    let config: Value = serde_json::from_str(&destination.config)?;
    let secret =
        crate::secrets::get(&outbound.db, &outbound.keyring, ctx, &secret_name(id)).await?;
    let event = Envelope::test(ctx.tenant_id().as_uuid(), now_ms());
    let outcome = match Target::parse(destination.kind, &config) {
        Ok(target) => {
            let attempt =
                outbound
                    .sender
                    .deliver(&target, secret.as_ref(), std::slice::from_ref(&event));
            match tokio::time::timeout(std::time::Duration::from_secs(10), attempt).await {
                Ok(mut results) => results.pop().unwrap_or(Ok(())),
                Err(_) => Err(super::targets::DeliveryError::transient(
                    "the destination did not answer within 10 s",
                )),
            }
        }
        Err(e) => Err(super::targets::DeliveryError::permanent(e)),
    };
    let now = now_ms();
    let txn = begin_write(&outbound.db).await?;
    super::worker::update_health(
        &txn,
        ctx.tenant_id().as_uuid(),
        id,
        outcome.is_ok().then_some(now),
        outcome.as_ref().err().map(|e| (now, e.message.clone())),
    )
    .await?;
    txn.commit().await?;
    Ok(match outcome {
        Ok(()) => TestResult {
            delivered: true,
            error: None,
        },
        Err(e) => TestResult {
            delivered: false,
            error: Some(e.message),
        },
    })
}
