//! The message_deliveries table: the outbox the delivery worker drains.

use sqlx::postgres::types::PgInterval;

use crate::db::TenantTx;
use crate::domain::TenantId;
use crate::domain::chat::MessageId;

use super::RepoError;

/// Puts an outbound message in the outbox, due now.
pub async fn enqueue(tx: &mut TenantTx, id: MessageId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO message_deliveries (tenant_id, message_id) VALUES ($1, $2)
         ON CONFLICT (tenant_id, message_id) DO UPDATE SET due_at = now(), attempts = 0, last_error = NULL",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An outbox row a worker holds for a while.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryClaim {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    /// This attempt's number, from 1.
    pub attempt: i32,
}

pub async fn claim_deliveries(
    pool: &sqlx::PgPool,
    limit: i32,
    lease: std::time::Duration,
) -> Result<Vec<DeliveryClaim>, RepoError> {
    let lease = PgInterval::try_from(lease).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", message_id AS "message_id!", attempts AS "attempts!"
           FROM claim_message_deliveries($1, $2)"#,
        limit,
        lease
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeliveryClaim {
            tenant_id: TenantId(r.tenant_id),
            message_id: MessageId(r.message_id),
            attempt: r.attempts,
        })
        .collect())
}

/// Takes a message out of the outbox (sent, or failed for good).
pub async fn dequeue(tx: &mut TenantTx, id: MessageId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM message_deliveries WHERE tenant_id = $1 AND message_id = $2", tenant, id.0)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Makes a message due again after `delay`, remembering why the last attempt did not go.
pub async fn retry_later(
    tx: &mut TenantTx,
    id: MessageId,
    delay: std::time::Duration,
    error: &str,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let delay = PgInterval::try_from(delay).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    sqlx::query!(
        "UPDATE message_deliveries SET due_at = now() + $3, last_error = $4 WHERE tenant_id = $1 AND message_id = $2",
        tenant,
        id.0,
        delay,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
