//! The sessions table: browser sign-ins, stored as hashes of their cookie values.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::UserId;

use super::RepoError;

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub user_agent: &'a str,
    pub ip: &'a str,
}

pub async fn insert(tx: &mut TenantTx, s: NewSession<'_>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO sessions (tenant_id, token_hash, user_id, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        tenant,
        s.token_hash,
        s.user_id.0,
        s.expires_at,
        s.user_agent,
        s.ip
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut TenantTx, token_hash: &[u8]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = $2", tenant, token_hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends every session of a user except `keep` (the one making the change, if any).
pub async fn delete_for_user(tx: &mut TenantTx, user_id: UserId, keep: Option<&[u8]>) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND ($3::bytea IS NULL OR token_hash <> $3)",
        tenant,
        user_id.0,
        keep
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
