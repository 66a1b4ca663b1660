//! Single-use values with an expiry: HMAC nonces of module requests and SSO token ids.
//! A value is claimed by inserting it; a second claim of the same value finds the row and
//! fails. Expired rows are pruned by the `prune` job (a value older than its window is
//! refused by the window check anyway, so pruning never reopens a replay).

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::db::entities::replay_guards;
use crate::tenancy::TenantCtx;

/// Scope of HMAC request nonces.
pub const SCOPE_NONCE: replay_guards::Scope = replay_guards::Scope::HmacNonce;
/// Scope of console SSO token ids.
pub const SCOPE_SSO_JTI: replay_guards::Scope = replay_guards::Scope::SsoJti;

/// Claims `value` in `scope` for the tenant until `expires_at_ms`. `false` when it was
/// claimed before (a replay).
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    scope: replay_guards::Scope,
    value: &str,
    expires_at_ms: i64,
) -> Result<bool, DbErr> {
    let inserted = replay_guards::Entity::insert(replay_guards::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        scope: Set(scope),
        value: Set(value.to_owned()),
        expires_at: Set(expires_at_ms),
    })
    .on_conflict(
        OnConflict::columns([
            replay_guards::Column::TenantId,
            replay_guards::Column::Scope,
            replay_guards::Column::Value,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// Deletes expired values. Returns how many.
pub async fn prune<C: ConnectionTrait>(db: &C, now_ms: i64) -> Result<u64, DbErr> {
    Ok(replay_guards::Entity::delete_many()
        .filter(replay_guards::Column::ExpiresAt.lt(now_ms))
        .exec(db)
        .await?
        .rows_affected)
}
