//! The caller's audit chain: entries and verification.

use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use crate::db::entities::audit_entries;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::tenancy::{TenantCtx, scoped};

/// Query of the entry list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default)]
    after_seq: i64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    100
}

fn view(e: audit_entries::Model) -> serde_json::Value {
    serde_json::json!({
        "seq": e.seq,
        "ts": e.ts,
        "actor": {"type": e.actor_type, "id": e.actor_id},
        "action": e.action,
        "subject": {"type": e.subject_type, "id": e.subject_id},
        "details": serde_json::from_str::<serde_json::Value>(&e.details).unwrap_or_default(),
        "hash": e.hash,
        "prev": e.prev_hash,
    })
}

/// Entries after a seq, oldest first.
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
pub async fn verify(state: web::Data<AppState>, ctx: TenantCtx) -> Result<HttpResponse, ApiError> {
    let report =
        crate::audit_chain::verify_chain(&state.db, ctx.tenant_id().as_uuid(), &state.signer)
            .await?;
    Ok(HttpResponse::Ok().json(match report.result {
        Ok(v) => serde_json::json!({"ok": true, "entries": v.entries, "head": v.head, "checkpoints": v.checkpoints}),
        Err(e) => serde_json::json!({"ok": false, "error": e.to_string()}),
    }))
}
