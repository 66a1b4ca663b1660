//! The only way to query tenant-owned tables: [`scoped`] (reads), [`scoped_update`] and
//! [`scoped_delete`] start from the entity and filter by the context's tenant, so a row of
//! another tenant is indistinguishable from a missing one.
//!
//! Every tenant-owned entity is listed here, once, with the column holding its tenant (the
//! audit tables are keyed by their chain id, which is the tenant id). A new tenant-owned table
//! adds one line to `tenant_scoped!`. Credential lookups are the only unscoped reads of these
//! tables (see ARCHITECTURE.md, invariant 11).

use sea_orm::{ColumnTrait, DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany};

use super::TenantCtx;
use crate::db::entities;

/// A table whose rows belong to one tenant.
pub trait TenantScoped: EntityTrait {
    /// The column holding the tenant id.
    fn tenant_column() -> Self::Column;
}

/// `SELECT … WHERE <tenant column> = ctx.tenant_id()` for a tenant-owned entity.
pub fn scoped<E: TenantScoped>(ctx: &TenantCtx) -> Select<E> {
    E::find().filter(E::tenant_column().eq(ctx.tenant_id().as_uuid()))
}

/// `UPDATE … WHERE <tenant column> = ctx.tenant_id()`; add the row's own filters and values.
pub fn scoped_update<E: TenantScoped>(ctx: &TenantCtx) -> UpdateMany<E> {
    E::update_many().filter(E::tenant_column().eq(ctx.tenant_id().as_uuid()))
}

/// `DELETE … WHERE <tenant column> = ctx.tenant_id()`; add the row's own filters.
pub fn scoped_delete<E: TenantScoped>(ctx: &TenantCtx) -> DeleteMany<E> {
    E::delete_many().filter(E::tenant_column().eq(ctx.tenant_id().as_uuid()))
}

macro_rules! tenant_scoped {
    ($($entity:ident => $column:ident,)*) => {
        $(
            impl TenantScoped for entities::$entity::Entity {
                fn tenant_column() -> Self::Column {
                    entities::$entity::Column::$column
                }
            }
        )*
    };
}

tenant_scoped! {
    users => TenantId,
    api_keys => TenantId,
    audit_entries => ChainId,
    audit_checkpoints => ChainId,
    outbox => TenantId,
    outbound_destinations => TenantId,
    secrets => TenantId,
    perm_audit_runs => TenantId,
    perm_audit_snapshots => TenantId,
    perm_findings => TenantId,
    perm_reviews => TenantId,
    perm_policies => TenantId,
    perm_audit_schedules => TenantId,
    enrollment_tokens => TenantId,
    magento_module_keys => TenantId,
    replay_guards => TenantId,
    console_sessions => TenantId,
    signals => TenantId,
    permission_snapshots => TenantId,
    retention_reports => TenantId,
    retention_policies => TenantId,
    retention_runs => TenantId,
    findings => TenantId,
    agents => TenantId,
    agent_batches => TenantId,
    agent_aggregates => TenantId,
    ingest_quota_days => TenantId,
    shopify_installations => TenantId,
    shopify_signals => TenantId,
    shopify_compliance_requests => TenantId,
    webhook_deliveries => TenantId,
    incidents => TenantId,
    incident_events => TenantId,
    alerts => TenantId,
    alert_events => TenantId,
    alert_suppressions => TenantId,
    detection_inputs => TenantId,
    detection_cursors => TenantId,
    detection_states => TenantId,
    incident_reminders => TenantId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakguard_domain::ids::TenantId;
    use sea_orm::{DbBackend, QueryTrait};

    #[test]
    fn updates_and_deletes_are_filtered_by_the_contexts_tenant() {
        let tenant = TenantId::new();
        let ctx = TenantCtx::system(tenant, "test");
        let update = scoped_update::<entities::users::Entity>(&ctx)
            .col_expr(
                entities::users::Column::DisplayName,
                sea_orm::sea_query::Expr::value("x"),
            )
            .build(DbBackend::Postgres)
            .to_string();
        let delete = scoped_delete::<entities::api_keys::Entity>(&ctx)
            .build(DbBackend::Postgres)
            .to_string();
        let uuid = tenant.as_uuid().to_string();
        assert!(
            update.contains(&format!("\"tenant_id\" = '{uuid}'")),
            "{update}"
        );
        assert!(
            delete.contains(&format!("\"tenant_id\" = '{uuid}'")),
            "{delete}"
        );
    }
}
