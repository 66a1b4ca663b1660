//! Secrets at rest: sealed with the master key (AES-256-GCM), bound to their tenant and name so a
//! ciphertext copied to another row does not open. Values never reach a log or an error.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::audit_chain::{self, AuditError};
use crate::crypto::{CryptoError, Keyring, Sealed};
use crate::db::entities::secrets;
use crate::db::now_ms;
use crate::tenancy::{TenantCtx, scoped};
use leakguard_domain::audit::Subject;

/// Errors of the secret store.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Encryption or key problems.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Database.
    #[error("secret store database error: {0}")]
    Db(#[from] DbErr),
    /// Audit.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// Not valid UTF-8.
    #[error("secret is not text")]
    NotText,
}

fn aad(tenant: Uuid, name: &str) -> Vec<u8> {
    format!("leakguard-secret/v1/{tenant}/{name}").into_bytes()
}

/// Stores (or replaces) a secret, with an audit entry naming it but not its value.
pub async fn put<C: ConnectionTrait>(
    txn: &C,
    keyring: &Keyring,
    ctx: &TenantCtx,
    name: &str,
    value: &[u8],
) -> Result<(), SecretError> {
    let tenant = ctx.tenant_id().as_uuid();
    let sealed = keyring.seal(value, &aad(tenant, name))?;
    secrets::Entity::insert(secrets::ActiveModel {
        tenant_id: Set(tenant),
        name: Set(name.to_owned()),
        key_id: Set(sealed.key_id),
        nonce: Set(sealed.nonce),
        ciphertext: Set(sealed.ciphertext),
        updated_at: Set(now_ms()),
    })
    .on_conflict(
        OnConflict::columns([secrets::Column::TenantId, secrets::Column::Name])
            .update_columns([
                secrets::Column::KeyId,
                secrets::Column::Nonce,
                secrets::Column::Ciphertext,
                secrets::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    audit_chain::record(
        txn,
        ctx,
        "secret.stored",
        Subject::new("secret", name),
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

/// Reads a secret of the context's tenant.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    keyring: &Keyring,
    ctx: &TenantCtx,
    name: &str,
) -> Result<Option<SecretString>, SecretError> {
    let Some(row) = scoped::<secrets::Entity>(ctx)
        .filter(secrets::Column::Name.eq(name))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let plain = keyring.open(
        &Sealed {
            key_id: row.key_id,
            nonce: row.nonce,
            ciphertext: row.ciphertext,
        },
        &aad(row.tenant_id, &row.name),
    )?;
    let text = String::from_utf8(plain).map_err(|_| SecretError::NotText)?;
    Ok(Some(SecretString::from(text)))
}

/// Deletes a secret, with an audit entry.
pub async fn delete<C: ConnectionTrait>(
    txn: &C,
    ctx: &TenantCtx,
    name: &str,
) -> Result<bool, SecretError> {
    let result = secrets::Entity::delete_many()
        .filter(secrets::Column::TenantId.eq(ctx.tenant_id().as_uuid()))
        .filter(secrets::Column::Name.eq(name))
        .exec(txn)
        .await?;
    if result.rows_affected > 0 {
        audit_chain::record(
            txn,
            ctx,
            "secret.deleted",
            Subject::new("secret", name),
            serde_json::json!({}),
        )
        .await?;
    }
    Ok(result.rows_affected > 0)
}

/// Re-encrypts every secret not sealed with the current key. Returns how many were re-sealed.
/// Each row is re-sealed in its own short transaction; a crash leaves every row readable,
/// because the old keys stay in the keyring until `prune`.
pub async fn reencrypt_all(
    db: &DatabaseConnection,
    keyring: &Keyring,
) -> Result<usize, SecretError> {
    let stale = secrets::Entity::find()
        .filter(secrets::Column::KeyId.ne(keyring.current_key_id()))
        .all(db)
        .await?;
    let mut n = 0;
    for row in stale {
        let binding = aad(row.tenant_id, &row.name);
        let plain = keyring.open(
            &Sealed {
                key_id: row.key_id.clone(),
                nonce: row.nonce.clone(),
                ciphertext: row.ciphertext.clone(),
            },
            &binding,
        )?;
        let sealed = keyring.seal(&plain, &binding)?;
        let txn = crate::db::begin_write(db).await?;
        secrets::Entity::update_many()
            .col_expr(
                secrets::Column::KeyId,
                sea_orm::sea_query::Expr::value(sealed.key_id),
            )
            .col_expr(
                secrets::Column::Nonce,
                sea_orm::sea_query::Expr::value(sealed.nonce),
            )
            .col_expr(
                secrets::Column::Ciphertext,
                sea_orm::sea_query::Expr::value(sealed.ciphertext),
            )
            .filter(secrets::Column::TenantId.eq(row.tenant_id))
            .filter(secrets::Column::Name.eq(row.name.clone()))
            .filter(secrets::Column::KeyId.eq(row.key_id.clone()))
            .exec(&txn)
            .await?;
        let ctx = TenantCtx::system(
            leakguard_domain::ids::TenantId(row.tenant_id),
            "secrets.rotate",
        );
        audit_chain::record(
            &txn,
            &ctx,
            "secret.reencrypted",
            Subject::new("secret", row.name.clone()),
            serde_json::json!({"key_id": keyring.current_key_id()}),
        )
        .await?;
        txn.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// Secrets whose key id is not the current one (after a rotation these must reach zero before
/// old keys are pruned).
pub async fn count_stale(db: &DatabaseConnection, keyring: &Keyring) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    secrets::Entity::find()
        .filter(secrets::Column::KeyId.ne(keyring.current_key_id()))
        .count(db)
        .await
}
