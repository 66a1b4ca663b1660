//! The tenant's allow-list policy: reading it and replacing it (admins).

use leakguard_domain::audit::Subject;
use leakguard_domain::permissions::Policy;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use super::AuditsError;
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::perm_policies;
use crate::tenancy::{TenantCtx, scoped};

const MAX_POLICY_BYTES: usize = 256 * 1024;

/// The tenant's allow-list policy (empty when none was set).
pub async fn get_policy<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
) -> Result<Policy, AuditsError> {
    match scoped::<perm_policies::Entity>(ctx).one(db).await? {
        Some(row) => Ok(serde_json::from_str(&row.policy)?),
        None => Ok(Policy::default()),
    }
}

/// Replaces the tenant's allow-list policy (admins).
pub async fn put_policy(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    policy: Policy,
    now_ms: i64,
) -> Result<Policy, AuditsError> {
    if !ctx.role().can_administer() {
        return Err(AuditsError::Forbidden);
    }
    if policy
        .allowed
        .keys()
        .any(|k| k.trim().is_empty() || k.len() > 512)
    {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidAllowList,
                "allow-list keys must be principal keys of 1 to 512 characters",
            ),
        ));
    }
    if policy
        .stale_admin_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidStaleAdminDays,
                "stale_admin_days must be 1 to 3650",
            ),
        ));
    }
    let text = serde_json::to_string(&policy)?;
    if text.len() > MAX_POLICY_BYTES {
        return Err(AuditsError::Invalid(
            crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::DocumentTooLarge,
                format!("the policy is larger than {MAX_POLICY_BYTES} bytes"),
            ),
        ));
    }
    let txn = begin_write(db).await?;
    perm_policies::Entity::delete_many()
        .filter(perm_policies::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .exec(&txn)
        .await?;
    perm_policies::Entity::insert(perm_policies::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        policy: Set(text),
        updated_at: Set(now_ms),
        updated_by: Set(ctx.actor().id.clone()),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "permission_policy.updated",
        Subject::new("permission_policy", ctx.tenant_id().to_string()),
        serde_json::json!({"allowed": policy.allowed.len(), "stale_admin_days": policy.stale_admin_days}),
    )
    .await?;
    txn.commit().await?;
    Ok(policy)
}
