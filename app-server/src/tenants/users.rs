//! Users of a tenant: add, list, change role, deactivate and reactivate.
//!
//! Rules, checked in the write transaction: only an owner acts on owners and admins or grants
//! those roles (`OwnerRequired`); the tenant always keeps one active owner (`LastOwner`, checked
//! with the owners' rows locked on PostgreSQL; SQLite's single writer serialises it). A
//! deactivated user's keys and sessions stop working at the next request (the credential paths
//! check the user through `tenancy::admit`), and deactivation also ends their console sessions,
//! so a later reactivation does not revive them. Every change is audited with the caller as
//! actor.

use leakguard_domain::audit::Subject;
use leakguard_domain::ids::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use super::TenantError;
use crate::audit_chain;
use crate::db::entities::{console_sessions, users};
use crate::db::{begin_write, now_ms};
use crate::tenancy::{Role, TenantCtx, scoped, scoped_update};

/// A user as shown in the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Platform id (Shopify user id, Magento admin id) or a label.
    pub external_id: String,
    /// Name shown in the console.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Whether the user may sign in and use their keys.
    pub active: bool,
    /// Unix ms (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Unix ms, when deactivated (RFC 3339 UTC in JSON).
    #[serde(with = "crate::api_time::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deactivated_at: Option<i64>,
}

impl From<users::Model> for UserView {
    fn from(u: users::Model) -> Self {
        Self {
            id: u.id,
            external_id: u.external_id,
            display_name: u.display_name,
            role: u.role,
            active: u.deactivated_at.is_none(),
            created_at: u.created_at,
            deactivated_at: u.deactivated_at,
        }
    }
}

pub(super) async fn create_user_in<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    external_id: &str,
    display_name: &str,
    role: Role,
) -> Result<UserId, TenantError> {
    let user_id = UserId::new();
    users::Entity::insert(users::ActiveModel {
        id: Set(user_id.as_uuid()),
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        external_id: Set(external_id.to_owned()),
        display_name: Set(display_name.to_owned()),
        role: Set(role),
        created_at: Set(now_ms()),
        deactivated_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "user.created",
        Subject::new("user", user_id.to_string()),
        serde_json::json!({"role": role.as_str()}),
    )
    .await?;
    Ok(user_id)
}

/// `OwnerRequired` unless the caller may act on a user of `target` role (and grant it).
pub(super) fn check_standing(ctx: &TenantCtx, target: Role, what: &str) -> Result<(), TenantError> {
    if (target.is_privileged() && ctx.role() != Role::Owner) || target.rank() > ctx.role().rank() {
        return Err(TenantError::OwnerRequired(format!(
            "only an owner may {what} {}",
            target.as_str()
        )));
    }
    Ok(())
}

/// Adds a user to the context's tenant (admins only; only an owner may add owners or admins).
pub async fn create_user(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    external_id: &str,
    display_name: &str,
    role: Role,
) -> Result<UserView, TenantError> {
    let external_id = external_id.trim();
    let display_name = display_name.trim();
    if external_id.is_empty() || external_id.len() > 255 {
        return Err(TenantError::Invalid(
            "external_id must be 1 to 255 characters".into(),
        ));
    }
    if display_name.is_empty() || display_name.len() > 255 {
        return Err(TenantError::Invalid(
            "display_name must be 1 to 255 characters".into(),
        ));
    }
    check_standing(ctx, role, "add a user with the role")?;
    let txn = begin_write(db).await?;
    let taken = scoped::<users::Entity>(ctx)
        .filter(users::Column::ExternalId.eq(external_id))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(TenantError::Exists(format!("user {external_id}")));
    }
    let id = create_user_in(&txn, ctx, external_id, display_name, role).await?;
    let user = find_user(&txn, ctx, id.as_uuid()).await?;
    txn.commit().await?;
    Ok(user.into())
}

async fn find_user<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<users::Model, TenantError> {
    scoped::<users::Entity>(ctx)
        .filter(users::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(TenantError::NotFound)
}

/// The tenant's users.
pub async fn list_users(db: &DatabaseConnection, ctx: &TenantCtx) -> Result<Vec<UserView>, DbErr> {
    Ok(scoped::<users::Entity>(ctx)
        .order_by_asc(users::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(UserView::from)
        .collect())
}

/// One user of the tenant; another tenant's user is `NotFound`.
pub async fn get_user(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<UserView, TenantError> {
    Ok(find_user(db, ctx, id).await?.into())
}

/// What `PATCH /api/v1/users/{id}` may change; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    /// A new role.
    pub role: Option<Role>,
    /// `false` deactivates, `true` reactivates.
    pub active: Option<bool>,
}

/// Changes a user's role or active state (admins; see the module header for the rules).
pub async fn update_user(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    id: Uuid,
    change: UserChange,
) -> Result<UserView, TenantError> {
    if change.role.is_none() && change.active.is_none() {
        return Err(TenantError::Invalid(
            "give at least one of role and active".into(),
        ));
    }
    let txn = begin_write(db).await?;
    let user = find_user(&txn, ctx, id).await?;
    let current = user.role;
    let new_role = change.role.unwrap_or(current);
    let was_active = user.deactivated_at.is_none();
    let active = change.active.unwrap_or(was_active);
    if new_role == current && active == was_active {
        txn.commit().await?;
        return Ok(user.into());
    }
    check_standing(ctx, current, "change a user with the role")?;
    check_standing(ctx, new_role, "give a user the role")?;
    let loses_owner = current == Role::Owner && was_active && (new_role != Role::Owner || !active);
    if loses_owner {
        let other_owners = scoped::<users::Entity>(ctx)
            .filter(users::Column::Role.eq(Role::Owner))
            .filter(users::Column::DeactivatedAt.is_null())
            .filter(users::Column::Id.ne(id))
            .lock_exclusive()
            .count(&txn)
            .await?;
        if other_owners == 0 {
            return Err(TenantError::LastOwner);
        }
    }
    let now = now_ms();
    let deactivated_at = if active {
        None
    } else {
        user.deactivated_at.or(Some(now))
    };
    scoped_update::<users::Entity>(ctx)
        .col_expr(users::Column::Role, Expr::value(new_role))
        .col_expr(users::Column::DeactivatedAt, Expr::value(deactivated_at))
        .filter(users::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let mut sessions_ended = 0;
    if !active && was_active {
        sessions_ended = scoped_update::<console_sessions::Entity>(ctx)
            .col_expr(console_sessions::Column::RevokedAt, Expr::value(now))
            .filter(console_sessions::Column::UserId.eq(id))
            .filter(console_sessions::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
    }
    let action = match (was_active, active) {
        (true, false) => "user.deactivated",
        (false, true) => "user.reactivated",
        _ => "user.role_changed",
    };
    audit_chain::record(
        &txn,
        ctx,
        action,
        Subject::new("user", id.to_string()),
        serde_json::json!({
            "role": new_role.as_str(),
            "previous_role": current.as_str(),
            "active": active,
            "sessions_ended": sessions_ended,
        }),
    )
    .await?;
    let user = find_user(&txn, ctx, id).await?;
    txn.commit().await?;
    Ok(user.into())
}

/// Creates the user with this external id, or brings its name and role up to date, inside the
/// caller's transaction (sign-in from a platform that owns the user's identity and role). A
/// deactivated user stays deactivated: the sign-in is then refused by `tenancy::admit`.
pub async fn upsert_external_user<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    external_id: &str,
    display_name: &str,
    role: Role,
) -> Result<users::Model, TenantError> {
    let existing = scoped::<users::Entity>(ctx)
        .filter(users::Column::ExternalId.eq(external_id))
        .one(txn)
        .await?;
    let Some(user) = existing else {
        let id = create_user_in(txn, ctx, external_id, display_name, role).await?;
        return find_user(txn, ctx, id.as_uuid()).await;
    };
    if user.display_name != display_name || user.role != role {
        scoped_update::<users::Entity>(ctx)
            .col_expr(users::Column::DisplayName, Expr::value(display_name))
            .col_expr(users::Column::Role, Expr::value(role))
            .filter(users::Column::Id.eq(user.id))
            .exec(txn)
            .await?;
        audit_chain::record(
            txn,
            ctx,
            "user.updated",
            Subject::new("user", user.id.to_string()),
            serde_json::json!({"role": role.as_str(), "previous_role": user.role}),
        )
        .await?;
        return find_user(txn, ctx, user.id).await;
    }
    Ok(user)
}
