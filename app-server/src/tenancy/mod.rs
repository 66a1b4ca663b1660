//! The tenant context and the only way to query tenant-owned tables.
//!
//! Every service function takes a [`TenantCtx`] first. Tenant-owned entities implement
//! [`TenantScoped`], and [`scoped`] is the one place that builds their `SELECT`s, filtered by
//! the context's tenant. A row of another tenant is indistinguishable from a missing one.

use leakguard_domain::audit::Actor;
use leakguard_domain::ids::{TenantId, UserId};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use serde::{Deserialize, Serialize};

use crate::db::entities;

/// Roles inside a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Installed the app; everything an admin can, plus managing admins.
    Owner,
    /// Manages users, policies and integrations.
    Admin,
    /// Approves notice templates; reads everything.
    Legal,
    /// Triages findings and incidents.
    Analyst,
    /// Reads.
    Viewer,
}

impl Role {
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "legal" => Some(Self::Legal),
            "analyst" => Some(Self::Analyst),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Legal => "legal",
            Self::Analyst => "analyst",
            Self::Viewer => "viewer",
        }
    }

    /// May change tenant configuration and users.
    pub fn can_administer(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// May review findings and act on incidents.
    pub fn can_review(self) -> bool {
        matches!(self, Self::Owner | Self::Admin | Self::Analyst)
    }

    /// May approve notice templates.
    pub fn can_approve_notices(self) -> bool {
        matches!(self, Self::Owner | Self::Legal)
    }
}

/// Who is acting, inside which tenant.
#[derive(Clone, Debug)]
pub struct TenantCtx {
    tenant_id: TenantId,
    user_id: Option<UserId>,
    role: Role,
    actor: Actor,
}

impl TenantCtx {
    /// The tenant every query is scoped to.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The acting user, if a person is acting.
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }

    /// The acting role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// How the actor is recorded in the audit chain.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// A context from its parts (crate-internal while the credential paths move to `admit`).
    pub(crate) fn from_parts(
        tenant_id: TenantId,
        user_id: Option<UserId>,
        role: Role,
        actor: Actor,
    ) -> Self {
        Self {
            tenant_id,
            user_id,
            role,
            actor,
        }
    }

    /// A context for the server itself acting inside a tenant (jobs, webhook processing).
    pub fn system(tenant_id: TenantId, component: &str) -> Self {
        Self {
            tenant_id,
            user_id: None,
            role: Role::Admin,
            actor: Actor::system(component),
        }
    }

    /// A context for a user.
    pub fn user(tenant_id: TenantId, user_id: UserId, role: Role, auth: &str) -> Self {
        Self {
            tenant_id,
            user_id: Some(user_id),
            role,
            actor: Actor::new("user", format!("{user_id}:{auth}")),
        }
    }
}

/// A table whose rows belong to one tenant.
pub trait TenantScoped: EntityTrait {
    /// The column holding the tenant id.
    fn tenant_column() -> Self::Column;
}

/// `SELECT … WHERE tenant_id = ctx.tenant_id` for a tenant-owned entity.
pub fn scoped<E: TenantScoped>(ctx: &TenantCtx) -> Select<E> {
    E::find().filter(E::tenant_column().eq(ctx.tenant_id.as_uuid()))
}

impl TenantScoped for entities::users::Entity {
    fn tenant_column() -> Self::Column {
        entities::users::Column::TenantId
    }
}

impl TenantScoped for entities::api_keys::Entity {
    fn tenant_column() -> Self::Column {
        entities::api_keys::Column::TenantId
    }
}

impl TenantScoped for entities::audit_entries::Entity {
    fn tenant_column() -> Self::Column {
        entities::audit_entries::Column::ChainId
    }
}

impl TenantScoped for entities::audit_checkpoints::Entity {
    fn tenant_column() -> Self::Column {
        entities::audit_checkpoints::Column::ChainId
    }
}

impl TenantScoped for entities::outbox::Entity {
    fn tenant_column() -> Self::Column {
        entities::outbox::Column::TenantId
    }
}

impl TenantScoped for entities::secrets::Entity {
    fn tenant_column() -> Self::Column {
        entities::secrets::Column::TenantId
    }
}

impl TenantScoped for entities::perm_audit_runs::Entity {
    fn tenant_column() -> Self::Column {
        entities::perm_audit_runs::Column::TenantId
    }
}

impl TenantScoped for entities::perm_audit_snapshots::Entity {
    fn tenant_column() -> Self::Column {
        entities::perm_audit_snapshots::Column::TenantId
    }
}

impl TenantScoped for entities::perm_findings::Entity {
    fn tenant_column() -> Self::Column {
        entities::perm_findings::Column::TenantId
    }
}

impl TenantScoped for entities::perm_reviews::Entity {
    fn tenant_column() -> Self::Column {
        entities::perm_reviews::Column::TenantId
    }
}

impl TenantScoped for entities::perm_policies::Entity {
    fn tenant_column() -> Self::Column {
        entities::perm_policies::Column::TenantId
    }
}

impl TenantScoped for entities::perm_audit_schedules::Entity {
    fn tenant_column() -> Self::Column {
        entities::perm_audit_schedules::Column::TenantId
    }
}

impl TenantScoped for entities::enrollment_tokens::Entity {
    fn tenant_column() -> Self::Column {
        entities::enrollment_tokens::Column::TenantId
    }
}

impl TenantScoped for entities::magento_module_keys::Entity {
    fn tenant_column() -> Self::Column {
        entities::magento_module_keys::Column::TenantId
    }
}

impl TenantScoped for entities::replay_guards::Entity {
    fn tenant_column() -> Self::Column {
        entities::replay_guards::Column::TenantId
    }
}

impl TenantScoped for entities::console_sessions::Entity {
    fn tenant_column() -> Self::Column {
        entities::console_sessions::Column::TenantId
    }
}

impl TenantScoped for entities::signals::Entity {
    fn tenant_column() -> Self::Column {
        entities::signals::Column::TenantId
    }
}

impl TenantScoped for entities::permission_snapshots::Entity {
    fn tenant_column() -> Self::Column {
        entities::permission_snapshots::Column::TenantId
    }
}

impl TenantScoped for entities::retention_reports::Entity {
    fn tenant_column() -> Self::Column {
        entities::retention_reports::Column::TenantId
    }
}

impl TenantScoped for entities::findings::Entity {
    fn tenant_column() -> Self::Column {
        entities::findings::Column::TenantId
    }
}

impl TenantScoped for entities::agents::Entity {
    fn tenant_column() -> Self::Column {
        entities::agents::Column::TenantId
    }
}

impl TenantScoped for entities::agent_batches::Entity {
    fn tenant_column() -> Self::Column {
        entities::agent_batches::Column::TenantId
    }
}

impl TenantScoped for entities::agent_aggregates::Entity {
    fn tenant_column() -> Self::Column {
        entities::agent_aggregates::Column::TenantId
    }
}
