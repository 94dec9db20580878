//! The message_deliveries table, the outbox the delivery worker drains under per-message leases,
//! and message_attempts, the record of every call to a provider.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::TenantTx;
use crate::domain::TenantId;
use crate::domain::channel::ChannelId;
use crate::domain::chat::{MessageId, RetryCause, Transport};

use super::RepoError;

/// Puts an outbound message in the outbox, due `due` (now when absent); a message put back
/// (a retry) is due at once.
pub async fn enqueue(tx: &mut TenantTx, id: MessageId, due: Option<DateTime<Utc>>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO message_deliveries (tenant_id, message_id, due_at) VALUES ($1, $2, coalesce($3, now()))
         ON CONFLICT (tenant_id, message_id) DO UPDATE SET due_at = now(), attempts = 0, last_error = NULL, last_error_code = NULL,
             claim = NULL",
        tenant,
        id.0,
        due
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The next moment a bulk send may put a message on `transport` (never before now), taken:
/// the one after it is `gap` later. The row stays locked until `tx` ends, so the tenant's
/// bulk jobs take slots in turn.
pub async fn take_send_slot(
    tx: &mut TenantTx,
    transport: Transport,
    gap: std::time::Duration,
) -> Result<DateTime<Utc>, RepoError> {
    let tenant = tx.tenant_id().0;
    let gap = super::interval(gap)?;
    let at = sqlx::query_scalar!(
        r#"INSERT INTO send_pace AS p (tenant_id, transport, next_at) VALUES ($1, $2, clock_timestamp() + $3)
           ON CONFLICT (tenant_id, transport)
               DO UPDATE SET next_at = greatest(p.next_at, clock_timestamp()) + $3
           RETURNING next_at - $3 AS "at!""#,
        tenant,
        transport.as_str(),
        gap
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(at)
}

/// An outbox row a worker holds until its lease runs out (or it lets go).
#[derive(Debug, Clone, Copy)]
pub struct DeliveryClaim {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    /// How many times the row has been claimed, this claim included (from 1).
    pub pass: i32,
    /// This claim's own token: writes made under it fail once another claim has replaced it.
    pub token: Uuid,
}

/// Claims up to `limit` due rows of any tenant, each for `lease`.
pub async fn claim_deliveries(
    pool: &sqlx::PgPool,
    limit: i32,
    lease: std::time::Duration,
) -> Result<Vec<DeliveryClaim>, RepoError> {
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", message_id AS "message_id!", attempts AS "attempts!", claim AS "claim!"
           FROM claim_message_deliveries($1, $2)"#,
        limit,
        super::interval(lease)?
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeliveryClaim {
            tenant_id: TenantId(r.tenant_id),
            message_id: MessageId(r.message_id),
            pass: r.attempts,
            token: r.claim,
        })
        .collect())
}

/// Locks the row while `claim` still holds it; `None` once it is gone or held by another
/// claim. Returns the last error recorded on it.
pub async fn hold(tx: &mut TenantTx, claim: &DeliveryClaim) -> Result<Option<Option<String>>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        "SELECT last_error FROM message_deliveries WHERE tenant_id = $1 AND message_id = $2 AND claim = $3 FOR UPDATE",
        tenant,
        claim.message_id.0,
        claim.token
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| r.last_error))
}

/// Extends the lease of a row `claim` still holds; `false` if it no longer does.
pub async fn renew(tx: &mut TenantTx, claim: &DeliveryClaim, lease: std::time::Duration) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE message_deliveries SET due_at = now() + $4 WHERE tenant_id = $1 AND message_id = $2 AND claim = $3",
        tenant,
        claim.message_id.0,
        claim.token,
        super::interval(lease)?
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets go of a row `claim` holds: due again after `delay`, remembering why (`None` keeps the
/// reason it had). `false` if the claim no longer holds it.
pub async fn release(
    tx: &mut TenantTx,
    claim: &DeliveryClaim,
    delay: std::time::Duration,
    error: Option<(RetryCause, &str)>,
) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE message_deliveries SET due_at = now() + $4, claim = NULL, last_error = coalesce($5, last_error),
                last_error_code = coalesce($6, last_error_code)
         WHERE tenant_id = $1 AND message_id = $2 AND claim = $3",
        tenant,
        claim.message_id.0,
        claim.token,
        super::interval(delay)?,
        error.map(|(_, reason)| reason),
        error.map(|(cause, _)| cause.code())
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a message waiting for its next pass due now; `false` if it is not waiting (being
/// sent, or gone).
pub async fn due_now(tx: &mut TenantTx, id: MessageId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE message_deliveries SET due_at = now() WHERE tenant_id = $1 AND message_id = $2 AND claim IS NULL",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes a message out of the outbox (sent, or ended for good), whoever holds it.
pub async fn dequeue(tx: &mut TenantTx, id: MessageId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM message_deliveries WHERE tenant_id = $1 AND message_id = $2", tenant, id.0)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// How a call to a provider ended (`message_attempts.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The provider answered with its id for the message.
    Sent,
    /// The provider said no: retried later, or failed for good.
    Refused,
    /// The answer was lost; the provider has the message, which is taken as sent.
    Adopted,
    /// The answer was lost; the provider has no such message, so it is sent again.
    Absent,
    /// The answer was lost and the provider cannot be asked: a person decides.
    Unknown,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Refused => "refused",
            Outcome::Adopted => "adopted",
            Outcome::Absent => "absent",
            Outcome::Unknown => "unknown",
        }
    }
}

/// A call to a provider whose outcome is not known yet.
#[derive(Debug, Clone, Copy)]
pub struct OpenAttempt {
    pub id: i64,
    pub channel: Option<ChannelId>,
    pub started_at: DateTime<Utc>,
}

/// The message's call whose outcome is not known, if any.
pub async fn open_attempt(tx: &mut TenantTx, message: MessageId) -> Result<Option<OpenAttempt>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        "SELECT id, channel_id, started_at FROM message_attempts
         WHERE tenant_id = $1 AND message_id = $2 AND ended_at IS NULL",
        tenant,
        message.0
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| OpenAttempt { id: r.id, channel: r.channel_id.map(ChannelId), started_at: r.started_at }))
}

/// Records that a call to the provider begins now (committed before the call is made).
pub async fn start_attempt(
    tx: &mut TenantTx,
    message: MessageId,
    channel: Option<ChannelId>,
) -> Result<OpenAttempt, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        "INSERT INTO message_attempts (tenant_id, message_id, channel_id) VALUES ($1, $2, $3)
         RETURNING id, started_at",
        tenant,
        message.0,
        channel.map(|c| c.0)
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(OpenAttempt { id: row.id, channel, started_at: row.started_at })
}

/// Ends an open attempt with what came of it; `false` if it had ended already (another node
/// settled it first, and its word stands).
pub async fn end_attempt(
    tx: &mut TenantTx,
    attempt: i64,
    outcome: Outcome,
    provider_id: Option<&str>,
    error: Option<&str>,
) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE message_attempts SET ended_at = now(), outcome = $3, provider_message_id = $4, error = $5
         WHERE tenant_id = $1 AND id = $2 AND ended_at IS NULL",
        tenant,
        attempt,
        outcome.as_str(),
        provider_id,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which of these provider ids already belong to one of the tenant's messages or attempts.
pub async fn known_provider_ids(tx: &mut TenantTx, ids: &[String]) -> Result<Vec<String>, RepoError> {
    let tenant = tx.tenant_id().0;
    let known = sqlx::query_scalar!(
        r#"SELECT provider_message_id AS "id!" FROM messages
           WHERE tenant_id = $1 AND provider_message_id = ANY($2)
           UNION
           SELECT provider_message_id FROM message_attempts
           WHERE tenant_id = $1 AND provider_message_id = ANY($2)"#,
        tenant,
        ids
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(known)
}
