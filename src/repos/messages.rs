//! The messages of a chat and the files attached to them.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::channel::ChannelId;
use crate::domain::chat::{
    Attachment, ChatId, DeliveryStatus, Direction, Message, MessageId, RetryCause, Retrying, Sender, Transport,
};
use crate::domain::{ClientId, ContactId, UserId};

use super::RepoError;

struct AttachmentRow {
    id: i64,
    message_id: i64,
    file_name: String,
    content_type: String,
    size_bytes: i64,
    storage_key: String,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Self {
            id: r.id,
            message_id: MessageId(r.message_id),
            file_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            storage_key: r.storage_key,
        }
    }
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
    send_at: Option<DateTime<Utc>>,
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
            sender_user_id: r.sender_user_id.map(UserId),
            sender_contact_id: r.sender_contact_id.map(ContactId),
            sender_name: r.sender_name,
            body: r.body,
            contact_id: r.contact_id.map(ContactId),
            provider_message_id: r.provider_message_id,
            error_code: r.error_code,
            error: r.error,
            created_at: r.created_at,
            sent_at: r.sent_at,
            read_at: r.read_at,
            send_at: r.send_at,
            retrying: None,
            attachments: Vec::new(),
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
    /// An inbound message's channel and the provider's id for it, unique together: the same
    /// message delivered twice is refused as a conflict on `provider_message_id`.
    pub provider: Option<(ChannelId, &'a str)>,
    /// An outbound message's time to leave, if not now: it is `scheduled` until then.
    pub send_at: Option<DateTime<Utc>>,
}

/// Writes a message (outbound ones `queued`) and moves the chat to the top of the inbox; the
/// client's messages count as unread until staff read them.
pub async fn insert_message(tx: &mut TenantTx, m: NewMessage<'_>) -> Result<Message, RepoError> {
    let tenant = tx.tenant_id().0;
    let (user, contact) = match m.sender {
        Sender::User { id, .. } => (Some(id.0), None),
        Sender::Client { contact_id, .. } => (None, Some(contact_id.0)),
        Sender::System => (None, None),
    };
    let status = match (m.direction, m.send_at) {
        (Direction::Outbound, None) => Some(DeliveryStatus::Queued.as_str()),
        (Direction::Outbound, Some(_)) => Some(DeliveryStatus::Scheduled.as_str()),
        _ => None,
    };
    let row = sqlx::query_as!(
        MessageRow,
        "INSERT INTO messages (tenant_id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body,
                               transport, contact_id, status, channel_id, provider_message_id, send_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body, transport,
                   contact_id, status, provider_message_id, error_code, error, created_at, sent_at, read_at, send_at",
        tenant,
        m.chat.0,
        m.direction.as_str(),
        user,
        contact,
        m.sender_name,
        m.body,
        m.transport.as_str(),
        m.contact.map(|c| c.0),
        status,
        m.provider.map(|p| p.0.0),
        m.provider.map(|p| p.1),
        m.send_at
    )
    .fetch_one(tx.conn())
    .await
    .map_err(super::conflict_on(&[("messages_provider_key", "provider_message_id")]))?;
    sqlx::query!(
        "UPDATE chats SET last_message_id = $3, last_message_at = $4, unread_count = unread_count + $5
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        m.chat.0,
        row.id,
        row.created_at,
        i32::from(m.direction == Direction::Inbound)
    )
    .execute(tx.conn())
    .await?;
    row.try_into()
}

/// Every message of a client's chat (archived or not), oldest first, with attachments.
pub async fn of_client(tx: &mut TenantTx, client: ClientId) -> Result<Vec<Message>, RepoError> {
    let tenant = tx.tenant_id().0;
    let chat = sqlx::query_scalar!("SELECT id FROM chats WHERE tenant_id = $1 AND client_id = $2", tenant, client.0)
        .fetch_optional(tx.conn())
        .await?;
    let Some(chat) = chat else { return Ok(Vec::new()) };
    let mut messages = thread(tx, ChatId(chat), None, i64::MAX).await?;
    messages.reverse();
    Ok(messages)
}

/// One message with its attachments.
pub async fn message(tx: &mut TenantTx, id: MessageId) -> Result<Message, RepoError> {
    let tenant = tx.tenant_id().0;
    let message: Message = sqlx::query_as!(
        MessageRow,
        "SELECT id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body, transport, contact_id,
                status, provider_message_id, error_code, error, created_at, sent_at, read_at, send_at
         FROM messages WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .try_into()?;
    let mut one = [message];
    with_attachments(tx, &mut one).await?;
    with_retries(tx, &mut one).await?;
    let [message] = one;
    Ok(message)
}

/// The newest message of each of `chats` whose text has every word of `words` (the inbox
/// search's text match): chat, message and text.
pub async fn matching(
    tx: &mut TenantTx,
    chats: &[ChatId],
    words: &str,
) -> Result<Vec<(ChatId, MessageId, String)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let chats: Vec<i64> = chats.iter().map(|c| c.0).collect();
    let rows = sqlx::query!(
        "SELECT DISTINCT ON (chat_id) chat_id, id, body FROM messages
         WHERE tenant_id = $1 AND chat_id = ANY($2) AND search @@ plainto_tsquery('simple', $3)
         ORDER BY chat_id, id DESC",
        tenant,
        &chats,
        words
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (ChatId(r.chat_id), MessageId(r.id), r.body)).collect())
}

/// A page of a chat's messages, newest first: the latest `limit`, or those before `before`.
pub async fn thread(
    tx: &mut TenantTx,
    chat: ChatId,
    before: Option<MessageId>,
    limit: i64,
) -> Result<Vec<Message>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        MessageRow,
        "SELECT id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body, transport, contact_id,
                status, provider_message_id, error_code, error, created_at, sent_at, read_at, send_at
         FROM messages WHERE tenant_id = $1 AND chat_id = $2 AND id < coalesce($3, 9223372036854775807)
         ORDER BY id DESC LIMIT $4",
        tenant,
        chat.0,
        before.map(|b| b.0),
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    let mut messages = rows.into_iter().map(Message::try_from).collect::<Result<Vec<_>, _>>()?;
    with_attachments(tx, &mut messages).await?;
    with_retries(tx, &mut messages).await?;
    Ok(messages)
}

/// Fills in where the sending of each queued message stands, if a pass at it failed.
async fn with_retries(tx: &mut TenantTx, messages: &mut [Message]) -> Result<(), RepoError> {
    let queued: Vec<i64> =
        messages.iter().filter(|m| m.status == Some(DeliveryStatus::Queued)).map(|m| m.id.0).collect();
    if queued.is_empty() {
        return Ok(());
    }
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        "SELECT message_id, attempts, last_error_code, last_error, due_at FROM message_deliveries
         WHERE tenant_id = $1 AND message_id = ANY($2) AND attempts > 0 AND claim IS NULL",
        tenant,
        &queued
    )
    .fetch_all(tx.conn())
    .await?;
    for r in rows {
        if let Some(m) = messages.iter_mut().find(|m| m.id.0 == r.message_id) {
            m.retrying = Some(Retrying {
                attempts: r.attempts,
                cause: r.last_error_code.as_deref().and_then(RetryCause::from_code),
                reason: r.last_error,
                next_at: r.due_at,
            });
        }
    }
    Ok(())
}

/// Fills each message's attachments, in one query.
async fn with_attachments(tx: &mut TenantTx, messages: &mut [Message]) -> Result<(), RepoError> {
    if messages.is_empty() {
        return Ok(());
    }
    let tenant = tx.tenant_id().0;
    let ids: Vec<i64> = messages.iter().map(|m| m.id.0).collect();
    let rows = sqlx::query_as!(
        AttachmentRow,
        "SELECT id, message_id, file_name, content_type, size_bytes, storage_key FROM message_attachments
         WHERE tenant_id = $1 AND message_id = ANY($2) ORDER BY id",
        tenant,
        &ids
    )
    .fetch_all(tx.conn())
    .await?;
    for r in rows {
        if let Some(m) = messages.iter_mut().find(|m| m.id.0 == r.message_id) {
            m.attachments.push(r.into());
        }
    }
    Ok(())
}

pub struct NewAttachment<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub storage_key: &'a str,
}

pub async fn insert_attachment(
    tx: &mut TenantTx,
    message: MessageId,
    a: &NewAttachment<'_>,
) -> Result<Attachment, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO message_attachments (tenant_id, message_id, file_name, content_type, size_bytes, storage_key)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        tenant,
        message.0,
        a.file_name,
        a.content_type,
        a.size_bytes,
        a.storage_key
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(Attachment {
        id,
        message_id: message,
        file_name: a.file_name.to_owned(),
        content_type: a.content_type.to_owned(),
        size_bytes: a.size_bytes,
        storage_key: a.storage_key.to_owned(),
    })
}

/// An attachment of a chat's message, to serve its file.
pub async fn attachment(tx: &mut TenantTx, chat: ChatId, id: i64) -> Result<Attachment, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query_as!(
        AttachmentRow,
        "SELECT a.id, a.message_id, a.file_name, a.content_type, a.size_bytes, a.storage_key
         FROM message_attachments a JOIN messages m ON m.tenant_id = a.tenant_id AND m.id = a.message_id
         WHERE a.tenant_id = $1 AND a.id = $2 AND m.chat_id = $3",
        tenant,
        id,
        chat.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok(row.into())
}

/// The stored files of a client's messages, to delete with the client (erasure).
pub async fn storage_keys_of_client(
    tx: &mut TenantTx,
    client: crate::domain::ClientId,
) -> Result<Vec<String>, RepoError> {
    let tenant = tx.tenant_id().0;
    Ok(sqlx::query_scalar!(
        "SELECT a.storage_key FROM message_attachments a
         JOIN messages m ON m.tenant_id = a.tenant_id AND m.id = a.message_id
         JOIN chats h ON h.tenant_id = m.tenant_id AND h.id = m.chat_id
         WHERE a.tenant_id = $1 AND h.client_id = $2",
        tenant,
        client.0
    )
    .fetch_all(tx.conn())
    .await?)
}

/// A scheduled message whose time has come, queued to be sent now; `false` if it was not
/// scheduled (cancelled meanwhile, or queued already).
pub async fn release_scheduled(tx: &mut TenantTx, id: MessageId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE messages SET status = 'queued' WHERE tenant_id = $1 AND id = $2 AND status = 'scheduled'",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Calls off a scheduled message of `chat` before it leaves: its outbox row goes (unless a
/// worker has claimed it: then it is leaving) and it becomes `cancelled`. `false` when it
/// was not scheduled or is leaving.
pub async fn cancel_scheduled(tx: &mut TenantTx, chat: ChatId, id: MessageId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "WITH gone AS (
             DELETE FROM message_deliveries d
             WHERE d.tenant_id = $1 AND d.message_id = $3 AND d.claim IS NULL AND d.attempts = 0
               AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = $1 AND m.id = $3 AND m.chat_id = $2
                           AND m.status = 'scheduled')
             RETURNING d.message_id
         )
         UPDATE messages SET status = 'cancelled' WHERE tenant_id = $1 AND id IN (SELECT message_id FROM gone)",
        tenant,
        chat.0,
        id.0
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts a failed message back to `queued` for a manual retry (the one way back from a
/// terminal state).
pub async fn requeue(tx: &mut TenantTx, id: MessageId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    // The last attempt's id goes with it (its attempt row keeps it): a late report naming it
    // is about that attempt, and must not move the message sent again.
    sqlx::query!(
        "UPDATE messages SET status = 'queued', error_code = NULL, error = NULL, provider_message_id = NULL
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A message locked for a change of its delivery state.
pub async fn message_for_update(tx: &mut TenantTx, id: MessageId) -> Result<Message, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        MessageRow,
        "SELECT id, chat_id, direction, sender_user_id, sender_contact_id, sender_name, body, transport, contact_id,
                status, provider_message_id, error_code, error, created_at, sent_at, read_at, send_at
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

/// Ends a message still `queued` with `status` (failed or unknown) and a reason, without
/// reading it back (it may be what cannot be read); `None` if it was not queued.
pub async fn end_queued(
    tx: &mut TenantTx,
    id: MessageId,
    status: DeliveryStatus,
    (code, reason): (&str, &str),
) -> Result<Option<ChatId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let chat = sqlx::query_scalar!(
        "UPDATE messages SET status = $3, error_code = $4, error = $5
         WHERE tenant_id = $1 AND id = $2 AND status = 'queued' RETURNING chat_id",
        tenant,
        id.0,
        status.as_str(),
        code,
        reason
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(chat.map(ChatId))
}

/// Where a message on `transport` to a contact goes (`None` if the contact was removed since):
/// the contact's value, except on Telegram, where a bot writes to the chat id the client
/// wrote from (kept on the chat member), whatever the username.
pub async fn destination(
    tx: &mut TenantTx,
    contact: ContactId,
    transport: Transport,
) -> Result<Option<String>, RepoError> {
    let tenant = tx.tenant_id().0;
    let value = sqlx::query_scalar!(
        r#"SELECT coalesce((SELECT m.transport_meta ->> 'chat_id' FROM chat_members m
                            WHERE m.tenant_id = k.tenant_id AND m.contact_id = k.id AND m.transport = $3
                              AND m.transport_meta ? 'chat_id' ORDER BY m.id DESC LIMIT 1), k.value) AS "value!"
           FROM client_contacts k WHERE k.tenant_id = $1 AND k.id = $2"#,
        tenant,
        contact.0,
        transport.as_str()
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(value)
}

/// Whether a message with this provider id came in on the channel already.
pub async fn from_provider(tx: &mut TenantTx, channel: ChannelId, provider_id: &str) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let found = sqlx::query_scalar!(
        "SELECT 1 FROM messages WHERE tenant_id = $1 AND channel_id = $2 AND provider_message_id = $3",
        tenant,
        channel.0,
        provider_id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

/// The outbound message a provider's id names (a status callback's MessageSid).
pub async fn by_provider_id(tx: &mut TenantTx, provider_id: &str) -> Result<Option<MessageId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "SELECT id FROM messages WHERE tenant_id = $1 AND provider_message_id = $2 AND direction = 'outbound'
         ORDER BY id DESC LIMIT 1",
        tenant,
        provider_id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(id.map(MessageId))
}

/// The channel the client last wrote on in this chat, on `transport`.
pub async fn last_inbound_channel(
    tx: &mut TenantTx,
    chat: ChatId,
    transport: Transport,
) -> Result<Option<ChannelId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "SELECT channel_id FROM messages
         WHERE tenant_id = $1 AND chat_id = $2 AND direction = 'inbound' AND transport = $3 AND channel_id IS NOT NULL
         ORDER BY id DESC LIMIT 1",
        tenant,
        chat.0,
        transport.as_str()
    )
    .fetch_optional(tx.conn())
    .await?
    .flatten();
    Ok(id.map(ChannelId))
}

/// The channel an outbound message went out on.
pub async fn set_channel(tx: &mut TenantTx, id: MessageId, channel: ChannelId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("UPDATE messages SET channel_id = $3 WHERE tenant_id = $1 AND id = $2", tenant, id.0, channel.0)
        .execute(tx.conn())
        .await?;
    Ok(())
}
