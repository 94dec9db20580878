//! The api_tokens table: Bearer tokens for /api/v1, stored as hashes.

use crate::db::TenantTx;
use crate::domain::UserId;
use crate::domain::user::ApiToken;

use super::RepoError;

pub async fn insert(
    tx: &mut TenantTx,
    user_id: UserId,
    name: &str,
    token_hash: &[u8],
    prefix: &str,
) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO api_tokens (tenant_id, user_id, name, token_hash, prefix) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        tenant,
        user_id.0,
        name,
        token_hash,
        prefix
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

/// A user's tokens, newest first.
pub async fn list_for_user(tx: &mut TenantTx, user_id: UserId) -> Result<Vec<ApiToken>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        ApiToken,
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY id DESC",
        tenant,
        user_id.0
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Revokes one of the user's own live tokens; another user's token is `NotFound`.
pub async fn revoke(tx: &mut TenantTx, user_id: UserId, id: i64) -> Result<String, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = now()
         WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND revoked_at IS NULL RETURNING name",
        tenant,
        user_id.0,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)
}
