//! The tenant door: the tenant context, the one place it is built, and the only way to query
//! tenant-owned tables.
//!
//! Every service function takes a [`TenantCtx`] first. A caller's context is built only by
//! [`admit`], from a principal whose credential has been verified, under the status rule of
//! its caller kind (the table in [`admit`](mod@admit)); the server acting for itself uses
//! [`TenantCtx::system`]. The fields are private, so nothing outside this module can make or
//! alter a context. Tenant-owned entities implement [`TenantScoped`] (all of them in
//! [`scoped`](mod@scoped)), and [`scoped()`], [`scoped_update`] and [`scoped_delete`] build
//! their queries filtered by the context's tenant.

pub mod admit;
pub mod scoped;

pub use admit::{Access, CallerKind, Principal, Refusal, TenantStatus, admit, rule};
pub use scoped::{TenantScoped, scoped, scoped_delete, scoped_update};

use leakguard_domain::audit::Actor;
use leakguard_domain::ids::{TenantId, UserId};
use serde::{Deserialize, Serialize};

/// Roles inside a tenant, stored in `users.role` as their lowercase name.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sea_orm(
    rs_type = "String",
    db_type = "String(sea_orm::sea_query::StringLen::N(16))"
)]
pub enum Role {
    /// Installed the app; everything an admin can, plus managing admins.
    #[sea_orm(string_value = "owner")]
    Owner,
    /// Manages users, policies and integrations.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Approves notice templates; reads everything.
    #[sea_orm(string_value = "legal")]
    Legal,
    /// Triages findings and incidents.
    #[sea_orm(string_value = "analyst")]
    Analyst,
    /// Reads.
    #[sea_orm(string_value = "viewer")]
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

    /// Standing for managing people: owner 3, admin 2, everyone else 1. Nobody acts on a user
    /// (keys, role, deactivation) whose standing is above their own, and only an owner acts on
    /// owners and admins.
    pub fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Admin => 2,
            Self::Legal | Self::Analyst | Self::Viewer => 1,
        }
    }

    /// Owners and admins: acting on them, or granting these roles, needs an owner.
    pub fn is_privileged(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

/// Who is acting, inside which tenant.
#[derive(Clone, Debug)]
pub struct TenantCtx {
    tenant_id: TenantId,
    user_id: Option<UserId>,
    role: Role,
    actor: Actor,
    access: Access,
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

    /// Whether the context may change the tenant's data (an uninstalled tenant is read-only
    /// to API keys and console sessions).
    pub fn access(&self) -> Access {
        self.access
    }

    /// `Err(Refusal::ReadOnly)` unless the context may write.
    pub fn require_write(&self) -> Result<(), Refusal> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(Refusal::ReadOnly),
        }
    }

    /// A context for the server itself acting inside a tenant (jobs, webhook processing, the
    /// redaction of an uninstalled shop). Not a caller: no status rule applies, and no request
    /// handler may build one from a credential.
    pub fn system(tenant_id: TenantId, component: &str) -> Self {
        Self {
            tenant_id,
            user_id: None,
            role: Role::Admin,
            actor: Actor::system(component),
            access: Access::ReadWrite,
        }
    }
}
