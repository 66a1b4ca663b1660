//! [`admit`]: the one place a caller's [`TenantCtx`] is built, from a principal whose
//! credential has been verified and the tenant it belongs to.
//!
//! Credential checks (hashes, signatures, expiry, revocation) stay with the credential's owner
//! module; what a verified caller may then do in a tenant of each status is decided here, by
//! one rule per caller kind:
//!
//! | caller kind | `active` | `uninstalled` | `purged` |
//! |---|---|---|---|
//! | API key | read-write | read-only (writes → `tenant_read_only`) | refused |
//! | console session | read-write | read-only (writes → `tenant_read_only`) | refused |
//! | Shopify session token (embedded app) | read-write | refused | refused |
//! | Magento module (signed requests) | read-write | refused | refused |
//! | host agent | read-write | refused | refused |
//! | Magento SSO sign-in | read-write | refused | refused |
//! | enrollment (module or agent token) | read-write | refused | refused |
//! | Shopify install (OAuth callback) | read-write | read-write (it reinstalls) | refused |
//! | operator (CLI) | read-write | read-write | refused |
//!
//! People are refused as well when their user is deactivated (`user_deactivated`) or belongs to
//! another tenant. The server acting for itself (jobs, webhook processing) is not a caller and
//! uses [`TenantCtx::system`].

use leakguard_domain::audit::Actor;
use leakguard_domain::ids::{TenantId, UserId};
use uuid::Uuid;

use super::{Role, TenantCtx};
use crate::db::entities::{tenants, users};

/// A tenant's lifecycle state (`tenants.status`).
pub use crate::db::entities::tenants::Status as TenantStatus;

/// What a context may do with the tenant's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read and change.
    ReadWrite,
    /// Read only: unsafe requests answer `tenant_read_only`.
    ReadOnly,
}

/// The kinds of caller the status table distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallerKind {
    /// `Authorization: Bearer lgk_…`.
    ApiKey,
    /// The console's session cookie.
    ConsoleSession,
    /// An App Bridge session token of the embedded Shopify app.
    ShopifySession,
    /// A request signed by the Magento module.
    MagentoModule,
    /// A host agent's credential.
    Agent,
    /// The Magento admin's signed console token.
    MagentoSso,
    /// A one-time enrollment token (module or agent).
    Enrollment,
    /// Shopify's OAuth install callback.
    ShopifyInstall,
    /// The operator, through the CLI.
    Operator,
}

/// The status rule: what `kind` may do in a tenant whose status is `status` (`None`: refused).
/// This match is the table of the module header; keep them together.
pub fn rule(kind: CallerKind, status: TenantStatus) -> Option<Access> {
    use CallerKind as K;
    match (status, kind) {
        (TenantStatus::Purged, _) => None,
        (TenantStatus::Active, _) => Some(Access::ReadWrite),
        (TenantStatus::Uninstalled, K::ApiKey | K::ConsoleSession) => Some(Access::ReadOnly),
        (TenantStatus::Uninstalled, K::ShopifyInstall | K::Operator) => Some(Access::ReadWrite),
        (
            TenantStatus::Uninstalled,
            K::ShopifySession | K::MagentoModule | K::Agent | K::MagentoSso | K::Enrollment,
        ) => None,
    }
}

/// A caller whose credential has been verified.
pub enum Principal<'a> {
    /// A user by an API key (its id is recorded in the actor).
    ApiKey {
        /// The key's user.
        user: &'a users::Model,
        /// The key.
        key_id: Uuid,
    },
    /// A user by a console session.
    ConsoleSession(&'a users::Model),
    /// A Shopify staff member by a session token.
    ShopifySession(&'a users::Model),
    /// A Magento admin by the SSO token, once their user is known.
    MagentoSsoUser(&'a users::Model),
    /// A Magento admin by the SSO token, before their user is known (the `sub` claim).
    MagentoAdmin(&'a str),
    /// The Magento module by its key id.
    MagentoModule(&'a str),
    /// A host agent by its id.
    Agent(Uuid),
    /// A module enrolling with a one-time token, under its new key id.
    ModuleEnrollment(&'a str),
    /// An agent enrolling with a one-time token, under its new id.
    AgentEnrollment(Uuid),
    /// Shopify's install callback, recorded as the given actor.
    ShopifyInstall(Actor),
    /// The operator, recorded as the given actor.
    Operator(Actor),
}

impl Principal<'_> {
    /// The caller kind whose status rule applies.
    pub fn kind(&self) -> CallerKind {
        match self {
            Self::ApiKey { .. } => CallerKind::ApiKey,
            Self::ConsoleSession(_) => CallerKind::ConsoleSession,
            Self::ShopifySession(_) => CallerKind::ShopifySession,
            Self::MagentoSsoUser(_) | Self::MagentoAdmin(_) => CallerKind::MagentoSso,
            Self::MagentoModule(_) => CallerKind::MagentoModule,
            Self::Agent(_) => CallerKind::Agent,
            Self::ModuleEnrollment(_) | Self::AgentEnrollment(_) => CallerKind::Enrollment,
            Self::ShopifyInstall(_) => CallerKind::ShopifyInstall,
            Self::Operator(_) => CallerKind::Operator,
        }
    }
}

/// Why a verified principal gets no context, or a context cannot write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The tenant's status does not admit this caller kind.
    #[error("the tenant does not accept this credential")]
    TenantClosed,
    /// The user is deactivated.
    #[error("the user is deactivated")]
    UserDeactivated,
    /// The principal does not belong to the tenant.
    #[error("the credential does not match the tenant")]
    Mismatch,
    /// The tenant is read-only to this caller (uninstalled).
    #[error("the tenant is uninstalled and read-only")]
    ReadOnly,
}

/// Builds the context of `principal` inside `tenant`, under the status rule of its kind.
pub fn admit(principal: Principal<'_>, tenant: &tenants::Model) -> Result<TenantCtx, Refusal> {
    let status = tenant.status;
    let access = rule(principal.kind(), status).ok_or(Refusal::TenantClosed)?;
    let tenant_id = TenantId(tenant.id);
    let person = |user: &users::Model, via: String| -> Result<TenantCtx, Refusal> {
        if user.tenant_id != tenant.id {
            return Err(Refusal::Mismatch);
        }
        if user.deactivated_at.is_some() {
            return Err(Refusal::UserDeactivated);
        }
        let role = user.role;
        Ok(TenantCtx {
            tenant_id,
            user_id: Some(UserId(user.id)),
            role,
            actor: Actor::new("user", format!("{}:{via}", user.id)),
            access,
        })
    };
    let machine = |role: Role, actor: Actor| TenantCtx {
        tenant_id,
        user_id: None,
        role,
        actor,
        access,
    };
    match principal {
        Principal::ApiKey { user, key_id } => person(user, format!("api_key:{key_id}")),
        Principal::ConsoleSession(user) => person(user, "console_session".into()),
        Principal::ShopifySession(user) => person(user, "shopify_session".into()),
        Principal::MagentoSsoUser(user) => person(user, "console_sso".into()),
        Principal::MagentoAdmin(sub) => Ok(machine(
            Role::Viewer,
            Actor::new("magento_admin", sub.to_owned()),
        )),
        Principal::MagentoModule(key_id) | Principal::ModuleEnrollment(key_id) => Ok(machine(
            Role::Viewer,
            Actor::new("magento_module", key_id.to_owned()),
        )),
        Principal::Agent(agent_id) | Principal::AgentEnrollment(agent_id) => Ok(machine(
            Role::Viewer,
            Actor::new("agent", agent_id.to_string()),
        )),
        Principal::ShopifyInstall(actor) | Principal::Operator(actor) => {
            Ok(machine(Role::Owner, actor))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tenant(status: TenantStatus) -> tenants::Model {
        tenants::Model {
            id: Uuid::now_v7(),
            platform: tenants::Platform::Shopify,
            shop_domain: Some("door.myshopify.com".into()),
            base_url: None,
            status,
            created_at: 0,
            installed_at: Some(0),
            uninstalled_at: None,
            purged_at: None,
        }
    }

    fn user(tenant: &tenants::Model, role: Role) -> users::Model {
        users::Model {
            id: Uuid::now_v7(),
            tenant_id: tenant.id,
            external_id: "u".into(),
            display_name: "U".into(),
            role,
            created_at: 0,
            deactivated_at: None,
        }
    }

    #[test]
    fn an_uninstalled_tenant_is_read_only_to_keys_and_sessions_and_closed_to_machines() {
        let t = tenant(TenantStatus::Uninstalled);
        let u = user(&t, Role::Admin);
        let key = admit(
            Principal::ApiKey {
                user: &u,
                key_id: Uuid::nil(),
            },
            &t,
        )
        .unwrap();
        assert_eq!(key.access(), Access::ReadOnly);
        assert_eq!(key.require_write(), Err(Refusal::ReadOnly));
        let session = admit(Principal::ConsoleSession(&u), &t).unwrap();
        assert_eq!(session.access(), Access::ReadOnly);
        for refused in [
            Principal::ShopifySession(&u),
            Principal::MagentoSsoUser(&u),
            Principal::MagentoModule("lgmk_1"),
            Principal::Agent(Uuid::nil()),
            Principal::AgentEnrollment(Uuid::nil()),
        ] {
            assert_eq!(admit(refused, &t).err(), Some(Refusal::TenantClosed));
        }
        let operator = admit(Principal::Operator(Actor::new("operator", "o")), &t).unwrap();
        assert_eq!(operator.access(), Access::ReadWrite);
    }

    #[test]
    fn a_purged_tenant_admits_nobody() {
        // An unknown status cannot be stored (CHECK constraint) nor read (typed column).
        {
            let t = tenant(TenantStatus::Purged);
            let u = user(&t, Role::Owner);
            assert_eq!(
                admit(Principal::ConsoleSession(&u), &t).err(),
                Some(Refusal::TenantClosed)
            );
            assert_eq!(
                admit(Principal::Operator(Actor::new("operator", "o")), &t).err(),
                Some(Refusal::TenantClosed)
            );
        }
    }

    #[test]
    fn a_deactivated_user_or_another_tenants_user_is_refused() {
        let t = tenant(TenantStatus::Active);
        let mut u = user(&t, Role::Owner);
        u.deactivated_at = Some(1);
        assert_eq!(
            admit(Principal::ConsoleSession(&u), &t).err(),
            Some(Refusal::UserDeactivated)
        );
        let other = tenant(TenantStatus::Active);
        let stranger = user(&other, Role::Owner);
        assert_eq!(
            admit(Principal::ConsoleSession(&stranger), &t).err(),
            Some(Refusal::Mismatch)
        );
    }

    #[test]
    fn an_api_key_context_names_its_user_and_key() {
        let t = tenant(TenantStatus::Active);
        let u = user(&t, Role::Analyst);
        let key_id = Uuid::now_v7();
        let ctx = admit(Principal::ApiKey { user: &u, key_id }, &t).unwrap();
        assert_eq!(ctx.role(), Role::Analyst);
        assert_eq!(ctx.user_id(), Some(UserId(u.id)));
        assert_eq!(ctx.actor().id, format!("{}:api_key:{key_id}", u.id));
        assert_eq!(ctx.access(), Access::ReadWrite);
    }
}
