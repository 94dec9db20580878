//! The chats table and its members: one chat per client, the inbox's order and unread counts.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::chat::{Chat, ChatId, InboxQuery, InboxRow, LastMessage, Member, MessageId, Transport};
use crate::domain::{ClientId, ContactId, Phone, UserId};

use super::RepoError;

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
    Ok((of_client(tx, client).await?.ok_or(RepoError::NotFound)?, false))
}

/// The chat of a live client, if one has been started.
pub async fn of_client(tx: &mut TenantTx, client: ClientId) -> Result<Option<Chat>, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query!(
        "SELECT h.id, h.created_at FROM chats h JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
         WHERE h.tenant_id = $1 AND h.client_id = $2 AND c.archived_at IS NULL",
        tenant,
        client.0
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(r.map(|r| Chat { id: ChatId(r.id), client_id: client, created_at: r.created_at }))
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

#[derive(sqlx::FromRow)]
struct InboxRecord {
    id: i64,
    client_id: i64,
    first_name: String,
    middle_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    unread_count: i32,
    last_id: Option<i64>,
    last_body: Option<String>,
    last_direction: Option<String>,
    last_transport: Option<String>,
    last_status: Option<String>,
    last_at: Option<DateTime<Utc>>,
    last_attachments: Option<i64>,
}

impl TryFrom<InboxRecord> for InboxRow {
    type Error = RepoError;
    fn try_from(r: InboxRecord) -> Result<Self, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("chat {}: {what}", r.id));
        let last = match (r.last_id, r.last_body, r.last_direction, r.last_transport, r.last_at) {
            (Some(id), Some(body), Some(direction), Some(transport), Some(at)) => Some(LastMessage {
                id: MessageId(id),
                body,
                direction: direction.parse().map_err(|_| corrupt("last message direction"))?,
                transport: transport.parse().map_err(|_| corrupt("last message transport"))?,
                status: r
                    .last_status
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|_| corrupt("last message status"))?,
                at,
                attachments: r.last_attachments.unwrap_or(0),
            }),
            _ => None,
        };
        Ok(InboxRow {
            id: ChatId(r.id),
            client_id: ClientId(r.client_id),
            client_name: crate::domain::client::full_name(
                &r.first_name,
                r.middle_name.as_deref(),
                r.last_name.as_deref(),
            ),
            client_phone: r.phone.as_deref().map(Phone::parse).transpose().map_err(|_| corrupt("client phone"))?,
            unread: r.unread_count,
            last,
        })
    }
}

const INBOX_SELECT: &str =
    "SELECT h.id, h.client_id, c.first_name, c.middle_name, c.last_name, c.phone, h.unread_count,
        m.id AS last_id, m.body AS last_body, m.direction AS last_direction, m.transport AS last_transport,
        m.status AS last_status, m.created_at AS last_at,
        (SELECT count(*) FROM message_attachments a WHERE a.tenant_id = m.tenant_id AND a.message_id = m.id)
            AS last_attachments
    FROM chats h
    JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
    LEFT JOIN messages m ON m.tenant_id = h.tenant_id AND m.id = h.last_message_id
    WHERE c.archived_at IS NULL AND h.tenant_id = ";

/// A page of the inbox, newest activity first. Chats nobody has written in yet are left out.
pub async fn inbox(tx: &mut TenantTx, query: &InboxQuery) -> Result<Vec<InboxRow>, RepoError> {
    let tenant = tx.tenant_id().0;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let mut b = sqlx::QueryBuilder::new(INBOX_SELECT);
    b.push_bind(tenant);
    if let Some(q) = q {
        // A search finds its page in search_inbox (0007), through the indexes row-level
        // security keeps from this role; what it returns is shown in its order.
        let ids = sqlx::query_scalar!(
            r#"SELECT search_inbox($1, $2, $3, $4, $5, $6) AS "ids!""#,
            &super::clients::search_patterns(q),
            q,
            query.unread_only,
            i32::try_from(query.limit).unwrap_or(i32::MAX),
            i32::try_from(query.offset).unwrap_or(i32::MAX),
            SEARCH_CAP
        )
        .fetch_one(tx.conn())
        .await?;
        b.push(" AND h.id = ANY(");
        b.push_bind(ids.clone());
        b.push(")");
        let rows: Vec<InboxRecord> = b.build_query_as().fetch_all(tx.conn()).await?;
        let mut rows = rows.into_iter().map(InboxRow::try_from).collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id.0));
        return Ok(rows);
    }
    b.push(" AND h.last_message_at IS NOT NULL");
    if query.unread_only {
        b.push(" AND h.unread_count > 0");
    }
    // NULLS LAST as in the indexes (DESC alone means NULLS FIRST, and no index would serve).
    b.push(" ORDER BY h.last_message_at DESC NULLS LAST, h.id DESC LIMIT ");
    b.push_bind(query.limit);
    b.push(" OFFSET ");
    b.push_bind(query.offset);
    let rows: Vec<InboxRecord> = b.build_query_as().fetch_all(tx.conn()).await?;
    rows.into_iter().map(InboxRow::try_from).collect()
}

/// How many matches of one kind (clients, or messages) search_inbox sorts itself before it
/// walks the inbox in order instead.
const SEARCH_CAP: i32 = 5000;

/// One chat as the inbox shows it (the thread's header).
pub async fn inbox_row(tx: &mut TenantTx, id: ChatId) -> Result<InboxRow, RepoError> {
    let tenant = tx.tenant_id().0;
    let mut b = sqlx::QueryBuilder::new(INBOX_SELECT);
    b.push_bind(tenant);
    b.push(" AND h.id = ");
    b.push_bind(id.0);
    let row: Option<InboxRecord> = b.build_query_as().fetch_optional(tx.conn()).await?;
    row.ok_or(RepoError::NotFound)?.try_into()
}

/// The client messages no one on the staff has read, over the tenant's live clients.
pub async fn unread_total(tx: &mut TenantTx) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    let total = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(h.unread_count), 0)::bigint AS "total!" FROM chats h
           JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
           WHERE h.tenant_id = $1 AND h.unread_count > 0 AND c.archived_at IS NULL"#,
        tenant
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(total)
}

/// Marks the client's messages read, up to `up_to` (what the reader was shown) or all, and
/// recounts the chat's unread under its row lock. Returns how many became read.
pub async fn mark_read(tx: &mut TenantTx, chat: ChatId, up_to: Option<MessageId>) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    lock(tx, chat).await?;
    let read = sqlx::query!(
        "UPDATE messages SET read_at = now()
         WHERE tenant_id = $1 AND chat_id = $2 AND direction = 'inbound' AND read_at IS NULL
           AND id <= coalesce($3, 9223372036854775807)",
        tenant,
        chat.0,
        up_to.map(|m| m.0)
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    recount_unread(tx, chat).await?;
    Ok(read)
}

/// Marks one of the client's messages read; `false` if it already was (or is not inbound).
pub async fn mark_message_read(tx: &mut TenantTx, chat: ChatId, message: MessageId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    lock(tx, chat).await?;
    let exists = sqlx::query_scalar!(
        "SELECT 1 FROM messages WHERE tenant_id = $1 AND chat_id = $2 AND id = $3",
        tenant,
        chat.0,
        message.0
    )
    .fetch_optional(tx.conn())
    .await?;
    if exists.is_none() {
        return Err(RepoError::NotFound);
    }
    let read = sqlx::query!(
        "UPDATE messages SET read_at = now()
         WHERE tenant_id = $1 AND chat_id = $2 AND id = $3 AND direction = 'inbound' AND read_at IS NULL",
        tenant,
        chat.0,
        message.0
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    recount_unread(tx, chat).await?;
    Ok(read > 0)
}

/// Takes the chat's row lock: reads and new messages of one chat count their unread in turn.
async fn lock(tx: &mut TenantTx, chat: ChatId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("SELECT id FROM chats WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant, chat.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    Ok(())
}

async fn recount_unread(tx: &mut TenantTx, chat: ChatId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE chats SET unread_count = (SELECT count(*) FROM messages m WHERE m.tenant_id = $1 AND m.chat_id = $2
                                           AND m.direction = 'inbound' AND m.read_at IS NULL)
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        chat.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn members(tx: &mut TenantTx, chat: ChatId) -> Result<Vec<Member>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        r#"SELECT m.id, m.user_id, m.contact_id, m.transport, coalesce(u.name, k.value, '') AS "name!"
           FROM chat_members m
           LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
           LEFT JOIN client_contacts k ON k.tenant_id = m.tenant_id AND k.id = m.contact_id
           WHERE m.tenant_id = $1 AND m.chat_id = $2 ORDER BY m.id"#,
        tenant,
        chat.0
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|r| {
            let transport = r.transport.as_deref().map(str::parse).transpose();
            Ok(Member {
                id: r.id,
                user_id: r.user_id.map(UserId),
                contact_id: r.contact_id.map(ContactId),
                transport: transport.map_err(|_| RepoError::Corrupt(format!("chat member {}: transport", r.id)))?,
                name: r.name,
            })
        })
        .collect()
}

/// Adds a member, unless it is one already: a user who writes, or a contact a message travels on.
pub async fn join(tx: &mut TenantTx, chat: ChatId, who: Joiner) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    match who {
        Joiner::User(user) => {
            sqlx::query!(
                "INSERT INTO chat_members (tenant_id, chat_id, user_id) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant_id, chat_id, user_id) WHERE user_id IS NOT NULL DO NOTHING",
                tenant,
                chat.0,
                user.0
            )
            .execute(tx.conn())
            .await?;
        }
        Joiner::Contact(contact, transport) => {
            sqlx::query!(
                "INSERT INTO chat_members (tenant_id, chat_id, contact_id, transport) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, chat_id, contact_id, transport) WHERE contact_id IS NOT NULL DO NOTHING",
                tenant,
                chat.0,
                contact.0,
                transport.as_str()
            )
            .execute(tx.conn())
            .await?;
        }
    }
    Ok(())
}

pub enum Joiner {
    User(crate::domain::UserId),
    Contact(ContactId, Transport),
}

/// Remembers the Telegram chat a client's contact writes from (a bot answers to it).
pub async fn remember_telegram_chat(
    tx: &mut TenantTx,
    chat: ChatId,
    contact: ContactId,
    meta: serde_json::Value,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE chat_members SET transport_meta = transport_meta || $4
         WHERE tenant_id = $1 AND chat_id = $2 AND contact_id = $3 AND transport = 'telegram'",
        tenant,
        chat.0,
        contact.0,
        meta
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
