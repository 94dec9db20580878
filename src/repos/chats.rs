//! The chats, messages and message_deliveries (outbox) tables.

use chrono::{DateTime, Utc};
use sqlx::postgres::types::PgInterval;

use crate::db::TenantTx;
use crate::domain::chat::{ChatId, DeliveryStatus, Direction, MessageId, Sender, Transport};
use crate::domain::{ClientId, ContactId, TenantId};

use super::RepoError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub id: ChatId,
    pub client_id: ClientId,
    pub created_at: DateTime<Utc>,
}

/// The client's one chat, made on first use. `true` with it: it was made now.
pub async fn for_client(tx: &mut TenantTx, client: ClientId) -> Result<(Chat, bool), RepoError> {
    let tenant = tx.tenant_id().0;
    let made = sqlx::query!(
        "INSERT INTO chats (tenant_id, client_id) SELECT $1, c.id FROM clients c
         WHERE c.tenant_id = $1 AND c.id = $2 AND c.archived_at IS NULL
         ON CONFLICT (tenant_id, client_id) DO NOTHING RETURNING id, created_at",
        tenant,
        client.0
    )
    .fetch_optional(tx.conn())
    .await?;
    if let Some(r) = made {
        return Ok((Chat { id: ChatId(r.id), client_id: client, created_at: r.created_at }, true));
    }
    let r = sqlx::query!(
        "SELECT h.id, h.created_at FROM chats h JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
         WHERE h.tenant_id = $1 AND h.client_id = $2 AND c.archived_at IS NULL",
        tenant,
        client.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok((Chat { id: ChatId(r.id), client_id: client, created_at: r.created_at }, false))
}

/// A chat of a live client.
pub async fn get(tx: &mut TenantTx, id: ChatId) -> Result<Chat, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query!(
        "SELECT h.id, h.client_id, h.created_at FROM chats h
         JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
         WHERE h.tenant_id = $1 AND h.id = $2 AND c.archived_at IS NULL",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok(Chat { id: ChatId(r.id), client_id: ClientId(r.client_id), created_at: r.created_at })
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub direction: Direction,
    pub sender_user_id: Option<i64>,
    pub sender_contact_id: Option<i64>,
    pub sender_name: String,
    pub body: String,
    pub transport: Transport,
    pub contact_id: Option<i64>,
    pub status: Option<DeliveryStatus>,
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
}

struct MessageRow {
    id: i64,
    chat_id: i64,
    direction: String,
    sender_user_id: Option<i64>,
    sender_contact_id: Option<i64>,
    sender_name: String,
    body: String,
    transport: String,
    contact_id: Option<i64>,
    status: Option<String>,
    provider_message_id: Option<String>,
    error_code: Option<String>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    read_at: Option<DateTime<Utc>>,
}

impl TryFrom<MessageRow> for Message {
    type Error = RepoError;
    fn try_from(r: MessageRow) -> Result<Self, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("message {}: {what}", r.id));
        Ok(Message {
            id: MessageId(r.id),
            chat_id: ChatId(r.chat_id),
            direction: r.direction.parse().map_err(|_| corrupt("direction"))?,
            transport: r.transport.parse().map_err(|_| corrupt("transport"))?,
            status: r.status.as_deref().map(str::parse).transpose().map_err(|_| corrupt("status"))?,
            sender_user_id: r.sender_user_id,
            sender_contact_id: r.sender_contact_id,
            sender_name: r.sender_name,
            body: r.body,
            contact_id: r.contact_id,
            provider_message_id: r.provider_message_id,
            error_code: r.error_code,
            error: r.error,
            created_at: r.created_at,
            sent_at: r.sent_at,
            read_at: r.read_at,
        })
    }
}

pub struct NewMessage<'a> {
    pub chat: ChatId,
    pub direction: Direction,
    pub sender: &'a Sender,
    pub sender_name: &'a str,
    pub body: &'a str,
    pub transport: Transport,
    pub contact: Option<ContactId>,
}

/// Writes a message (outbound ones `queued`) and moves the chat to the top of the inbox.
pub async fn insert_message(tx: &mut TenantTx, m: NewMessage<'_>) -> Result<Message, RepoError> {
    let tenant = tx.tenant_id().0;
    let (user, contact) = match m.sender {
        Sender::User { id, .. } => (Some(id.0), None),
        Sender::Client { contact_id, .. } => (None, Some(contact_id.0)),
        Sender::System => (None, None),
    };
    let status = (m.direction == Direction::Outbound).then_some(DeliveryStatus::Queued.as_str());
    let row = sqlx::query_as!(
        MessageRow,
        "INSERT INTO messages (tenant_id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body,
                               transport, contact_id, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body, transport,
                   contact_id, status, provider_message_id, error_code, error, created_at, sent_at, read_at",
        tenant,
        m.chat.0,
        m.direction.as_str(),
        user,
        contact,
        m.sender_name,
        m.body,
        m.transport.as_str(),
        m.contact.map(|c| c.0),
        status
    )
    .fetch_one(tx.conn())
    .await?;
    sqlx::query!(
        "UPDATE chats SET last_message_id = $3, last_message_at = $4 WHERE tenant_id = $1 AND id = $2",
        tenant,
        m.chat.0,
        row.id,
        row.created_at
    )
    .execute(tx.conn())
    .await?;
    row.try_into()
}

pub async fn message(tx: &mut TenantTx, id: MessageId) -> Result<Message, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        MessageRow,
        "SELECT id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body, transport, contact_id,
                status, provider_message_id, error_code, error, created_at, sent_at, read_at
         FROM messages WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .try_into()
}

/// A message locked for a change of its delivery state.
pub async fn message_for_update(tx: &mut TenantTx, id: MessageId) -> Result<Message, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        MessageRow,
        "SELECT id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body, transport, contact_id,
                status, provider_message_id, error_code, error, created_at, sent_at, read_at
         FROM messages WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .try_into()
}

/// Records a new delivery state: `sent` with the provider's id, or a failure with its code
/// and reason. The caller has checked that the state moves forward.
pub async fn set_status(
    tx: &mut TenantTx,
    id: MessageId,
    status: DeliveryStatus,
    provider_message_id: Option<&str>,
    error: Option<(&str, &str)>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE messages SET status = $3, provider_message_id = coalesce($4, provider_message_id),
                error_code = $5, error = $6,
                sent_at = CASE WHEN $3 = 'sent' THEN coalesce(sent_at, now()) ELSE sent_at END
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        status.as_str(),
        provider_message_id,
        error.map(|e| e.0),
        error.map(|e| e.1)
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The contact value a message goes to (`None` if the contact was removed since).
pub async fn destination(tx: &mut TenantTx, contact: i64) -> Result<Option<String>, RepoError> {
    let tenant = tx.tenant_id().0;
    let value =
        sqlx::query_scalar!("SELECT value FROM client_contacts WHERE tenant_id = $1 AND id = $2", tenant, contact)
            .fetch_optional(tx.conn())
            .await?;
    Ok(value)
}

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
