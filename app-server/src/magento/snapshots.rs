//! Permission snapshots (`POST /api/v1/magento/permission-snapshots`): integrations and admin
//! users with their ACL grants, as built by the module's `SnapshotBuilder`. Each distinct
//! snapshot is stored whole; the permission audit diffs consecutive ones. A re-delivery of
//! the same bytes (the module's retry queue) is recognised by its SHA-256 and not stored twice.

use leakguard_domain::audit::Subject;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{MagentoError, rfc3339_ms};
use crate::audit_chain;
use crate::db::begin_write;
use crate::db::entities::permission_snapshots;
use crate::tenancy::{TenantCtx, scoped};

/// Schema names accepted (the module's `schema` field starts with this).
pub const SCHEMA_PREFIX: &str = "leakguard.magento.permission_snapshot.";

/// Outcome of a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SnapshotAck {
    /// The stored snapshot.
    pub id: Uuid,
    /// True when these exact bytes were stored before.
    pub duplicate: bool,
}

/// Validates and stores a snapshot (raw JSON body).
pub async fn store(
    db: &DatabaseConnection,
    ctx: &TenantCtx,
    body: &[u8],
    now_ms: i64,
) -> Result<SnapshotAck, MagentoError> {
    let document: Value = serde_json::from_slice(body).map_err(|e| {
        MagentoError::Invalid(crate::invalid_input::InvalidInput::new(
            crate::invalid_input::Reason::InvalidJson,
            super::json_error("invalid JSON body", &e),
        ))
    })?;
    let schema = document
        .get("schema")
        .and_then(Value::as_str)
        .filter(|s| s.starts_with(SCHEMA_PREFIX) && s.len() <= 128)
        .ok_or_else(|| {
            MagentoError::Invalid(crate::invalid_input::InvalidInput::new(
                crate::invalid_input::Reason::InvalidModuleDocument,
                format!("schema must start with {SCHEMA_PREFIX}"),
            ))
        })?
        .to_owned();
    let count = |field: &str| -> Result<i32, MagentoError> {
        document
            .get(field)
            .and_then(Value::as_array)
            .map(|a| i32::try_from(a.len()).unwrap_or(i32::MAX))
            .ok_or_else(|| {
                MagentoError::Invalid(crate::invalid_input::InvalidInput::new(
                    crate::invalid_input::Reason::InvalidModuleDocument,
                    format!("{field} must be an array"),
                ))
            })
    };
    let integrations = count("integrations")?;
    let admin_users = count("admin_users")?;
    let generated_at = document
        .get("generated_at")
        .and_then(Value::as_str)
        .and_then(rfc3339_ms);
    let sha = hex::encode(Sha256::digest(body));
    let txn = begin_write(db).await?;
    if let Some(existing) = scoped::<permission_snapshots::Entity>(ctx)
        .filter(permission_snapshots::Column::BodySha256.eq(sha.clone()))
        .one(&txn)
        .await?
    {
        return Ok(SnapshotAck {
            id: existing.id,
            duplicate: true,
        });
    }
    let id = Uuid::now_v7();
    permission_snapshots::Entity::insert(permission_snapshots::ActiveModel {
        tenant_id: Set(ctx.tenant_id().as_uuid()),
        id: Set(id),
        body_sha256: Set(sha.clone()),
        schema: Set(schema.clone()),
        generated_at: Set(generated_at),
        received_at: Set(now_ms),
        integrations: Set(integrations),
        admin_users: Set(admin_users),
        snapshot: Set(String::from_utf8_lossy(body).into_owned()),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_chain::record(
        &txn,
        ctx,
        "magento.permission_snapshot.stored",
        Subject::new("permission_snapshot", id.to_string()),
        serde_json::json!({
            "schema": schema,
            "sha256": sha,
            "integrations": integrations,
            "admin_users": admin_users,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(SnapshotAck {
        id,
        duplicate: false,
    })
}
