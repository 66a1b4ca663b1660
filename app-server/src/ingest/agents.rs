//! Agents: enrollment (a one-time token for a per-agent credential, stored as its SHA-256),
//! authentication of `Authorization: Bearer <agent_id>.<credential>`, revocation, and the
//! tenant's health view (last seen, lag, spool figures when batches carry them).

use leakguard_domain::agent_wire::{EnrollRequest, EnrollResponse, split_bearer_token};
use leakguard_domain::audit::Subject;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::IngestError;
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::{agents, tenants};
use crate::enrollment::{self, TokenKind, random_secret};
use crate::tenancy::{self, Principal, TenantCtx, scoped};

/// An authenticated agent.
#[derive(Clone, Debug)]
pub struct AgentCtx {
    /// The agent's tenant, with the agent as actor.
    pub tenant: TenantCtx,
    /// The agent's id.
    pub agent_id: Uuid,
}

fn hash(credential: &str) -> String {
    hex::encode(Sha256::digest(credential.as_bytes()))
}

fn text_field(value: &str, name: &str, max: usize) -> Result<String, IngestError> {
    let value = value.trim();
    if value.is_empty() || value.len() > max || value.contains(char::is_control) {
        return Err(IngestError::Invalid(format!(
            "{name} must be 1 to {max} characters"
        )));
    }
    Ok(value.to_owned())
}

/// Trades a one-time token for an agent id and credential.
pub async fn enroll(
    db: &DatabaseConnection,
    request: &EnrollRequest,
    now_ms: i64,
) -> Result<EnrollResponse, IngestError> {
    let hostname = text_field(&request.hostname, "hostname", 255)?;
    let version = text_field(&request.agent_version, "agent_version", 64)?;
    let txn = begin_write(db).await?;
    let token =
        enrollment::find_usable(&txn, TokenKind::Agent, request.token.trim(), now_ms).await?;
    let agent_id = Uuid::now_v7();
    let tenant = tenants::Entity::find_by_id(token.tenant_id)
        .one(&txn)
        .await?
        .ok_or(IngestError::NotFound)?;
    // Checked before the token is consumed.
    let ctx = tenancy::admit(Principal::AgentEnrollment(agent_id), &tenant)
        .map_err(|_| IngestError::Unauthorized("the tenant does not accept new agents".into()))?;
    let tenant_id = enrollment::consume(&txn, &token, now_ms).await?;
    let credential = random_secret("lgac_");
    agents::Entity::insert(agents::ActiveModel {
        id: Set(agent_id),
        tenant_id: Set(tenant_id.as_uuid()),
        credential_hash: Set(hash(&credential)),
        hostname: Set(hostname.clone()),
        agent_version: Set(version.clone()),
        created_at: Set(now_ms),
        revoked_at: Set(None),
        last_seen_at: Set(Some(now_ms)),
        last_batch_at: Set(None),
        lag_ms: Set(None),
        spool_bytes: Set(None),
        spool_batches: Set(None),
        batches: Set(0),
        duplicates: Set(0),
        records: Set(0),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        &ctx,
        "agent.enrolled",
        Subject::new("agent", agent_id.to_string()),
        serde_json::json!({"hostname": hostname, "agent_version": version, "token": token.id.to_string()}),
    )
    .await?;
    txn.commit().await?;
    Ok(EnrollResponse {
        agent_id: agent_id.to_string(),
        credential,
    })
}

/// Resolves a bearer token to its agent. `None` for anything unknown, revoked or wrong.
pub async fn authenticate(
    db: &DatabaseConnection,
    bearer: &str,
) -> Result<Option<AgentCtx>, IngestError> {
    let Some((id, credential)) = split_bearer_token(bearer) else {
        return Ok(None);
    };
    let (Ok(agent_id), true) = (Uuid::parse_str(id), credential.len() <= 128) else {
        return Ok(None);
    };
    let Some(agent) = agents::Entity::find_by_id(agent_id)
        .filter(agents::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !bool::from(
        hash(credential)
            .as_bytes()
            .ct_eq(agent.credential_hash.as_bytes()),
    ) {
        return Ok(None);
    }
    let Some(tenant) = tenants::Entity::find_by_id(agent.tenant_id).one(db).await? else {
        return Ok(None);
    };
    let Ok(ctx) = tenancy::admit(Principal::Agent(agent_id), &tenant) else {
        return Ok(None);
    };
    Ok(Some(AgentCtx {
        tenant: ctx,
        agent_id,
    }))
}

/// An agent as the tenant sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentView {
    /// Id.
    pub id: Uuid,
    /// Host name given at enrollment.
    pub hostname: String,
    /// Version given at enrollment.
    pub agent_version: String,
    /// `active` or `revoked`.
    pub status: &'static str,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Last authenticated request, Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen_at: Option<i64>,
    /// Last new batch, Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_batch_at: Option<i64>,
    /// Receive time minus the newest record time of the last batch, ms.
    pub lag_ms: Option<i64>,
    /// Bytes waiting in the agent's spool, when the agent reports it.
    pub spool_bytes: Option<i64>,
    /// Batches waiting in the agent's spool, when the agent reports it.
    pub spool_batches: Option<i64>,
    /// Batches stored.
    pub batches: i64,
    /// Re-deliveries recognised.
    pub duplicates: i64,
    /// Records stored.
    pub records: i64,
}

impl From<agents::Model> for AgentView {
    fn from(a: agents::Model) -> Self {
        Self {
            id: a.id,
            hostname: a.hostname,
            agent_version: a.agent_version,
            status: if a.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            },
            created_at: a.created_at,
            last_seen_at: a.last_seen_at,
            last_batch_at: a.last_batch_at,
            lag_ms: a.lag_ms,
            spool_bytes: a.spool_bytes,
            spool_batches: a.spool_batches,
            batches: a.batches,
            duplicates: a.duplicates,
            records: a.records,
        }
    }
}

/// The tenant's agents, oldest first.
pub async fn list(db: &DatabaseConnection, ctx: &TenantCtx) -> Result<Vec<AgentView>, IngestError> {
    Ok(scoped::<agents::Entity>(ctx)
        .order_by_asc(agents::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(AgentView::from)
        .collect())
}

/// One agent of the tenant.
pub async fn get(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<AgentView, IngestError> {
    scoped::<agents::Entity>(ctx)
        .filter(agents::Column::Id.eq(id))
        .one(db)
        .await?
        .map(AgentView::from)
        .ok_or(IngestError::NotFound)
}

/// Revokes an agent's credential (admins). Idempotent.
pub async fn revoke(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    now_ms: i64,
) -> Result<AgentView, IngestError> {
    let txn = begin_write(db).await?;
    let agent = scoped::<agents::Entity>(ctx)
        .filter(agents::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(IngestError::NotFound)?;
    if agent.revoked_at.is_none() {
        agents::Entity::update_many()
            .col_expr(agents::Column::RevokedAt, Expr::value(now_ms))
            .filter(agents::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
            .filter(agents::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        audit_chain::record(
            &txn,
            ctx,
            "agent.revoked",
            Subject::new("agent", id.to_string()),
            serde_json::json!({}),
        )
        .await?;
    }
    let agent = scoped::<agents::Entity>(ctx)
        .filter(agents::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(IngestError::NotFound)?;
    txn.commit().await?;
    Ok(agent.into())
}
