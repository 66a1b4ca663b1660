//! The caller's audit chain: entries and verification.

use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::db::entities::audit_entries;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::tenancy::{TenantCtx, scoped};

/// Query of the entry list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Entries after this seq (default 0: from the start).
    #[serde(default)]
    after_seq: i64,
    /// At most this many entries, 1 to 1000 (default 100).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 1000)]
    limit: u64,
}

fn default_limit() -> u64 {
    100
}

/// An entry of the chain.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EntryView {
    /// Position in the tenant's chain, from 1.
    seq: i64,
    /// When it was written.
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    ts: i64,
    /// Who did it.
    actor: Party,
    /// What was done, e.g. `user.created`.
    action: String,
    /// What it was done to.
    subject: Party,
    /// What changed.
    #[schema(value_type = Object)]
    details: serde_json::Value,
    /// Hash of this entry (hex).
    hash: String,
    /// Hash of the previous entry (hex).
    prev: String,
}

/// An actor or a subject.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Party {
    /// Kind, e.g. `user`, `operator`, `system`.
    #[serde(rename = "type")]
    kind: String,
    /// Id within the kind.
    id: String,
}

/// The result of a verification: `ok` with the counts, or the first break found.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyView {
    /// Whether the chain verified.
    ok: bool,
    /// Entries verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    entries: Option<i64>,
    /// Hash of the last entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<String>,
    /// Signed checkpoints verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoints: Option<usize>,
    /// What broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn view(e: audit_entries::Model) -> EntryView {
    EntryView {
        seq: e.seq,
        ts: e.ts,
        actor: Party {
            kind: e.actor_type,
            id: e.actor_id,
        },
        action: e.action,
        subject: Party {
            kind: e.subject_type,
            id: e.subject_id,
        },
        details: serde_json::from_str(&e.details).unwrap_or_default(),
        hash: e.hash,
        prev: e.prev_hash,
    }
}

/// Entries after a seq, oldest first.
#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "audit", params(Page),
    responses((status = 200, body = Vec<EntryView>)))]
pub async fn list(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    if page.limit == 0 || page.limit > 1000 {
        return Err(ApiError::refused(
            crate::invalid_input::Reason::InvalidLimit,
            "limit must be 1 to 1000",
        ));
    }
    let rows = scoped::<audit_entries::Entity>(&ctx)
        .filter(audit_entries::Column::Seq.gt(page.after_seq))
        .order_by_asc(audit_entries::Column::Seq)
        .limit(page.limit)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(view).collect::<Vec<_>>()))
}

/// One entry.
#[utoipa::path(get, path = "/api/v1/audit/entries/{seq}", tag = "audit", params(("seq" = i64, Path)),
    responses((status = 200, body = EntryView)))]
pub async fn get(
    state: web::Data<AppState>,
    ctx: TenantCtx,
    seq: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let row = scoped::<audit_entries::Entity>(&ctx)
        .filter(audit_entries::Column::Seq.eq(*seq))
        .one(&state.db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(view(row)))
}

/// Verifies the caller's chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyView)))]
pub async fn verify(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    let report =
        crate::audit_chain::verify_chain(&state.db, ctx.tenant_id().as_uuid(), &state.checkpointer)
            .await?;
    Ok(HttpResponse::Ok().json(match report.result {
        Ok(v) => VerifyView {
            ok: true,
            entries: Some(v.entries),
            head: Some(v.head),
            checkpoints: Some(v.checkpoints),
            error: None,
        },
        Err(e) => VerifyView {
            ok: false,
            entries: None,
            head: None,
            checkpoints: None,
            error: Some(e.to_string()),
        },
    }))
}
