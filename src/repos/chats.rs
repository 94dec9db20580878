//! The chats table and its members: one chat per client, the inbox's order and unread counts.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::chat::{
    Assignee, AssigneeFilter, Chat, ChatId, ChatStatus, InboxQuery, InboxRow, LastMessage, Member, MessageId,
    StatusChange, Transport, VIEW_COUNT_CAP, ViewCounts,
};
use crate::domain::tag::{TagId, TaggedKind};
use crate::domain::{ClientId, ContactId, Phone, TenantId, UserId};

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
/// Whether `reader` reaches chat `id` under `record_visibility: own`: it is assigned to them,
/// or its client is theirs.
pub async fn visible_to(tx: &mut TenantTx, id: ChatId, reader: UserId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let seen = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM chats h JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
                          WHERE h.tenant_id = $1 AND h.id = $2 AND (h.assignee_user_id = $3 OR c.owner_id = $3))
           AS "seen!""#,
        tenant,
        id.0,
        reader.0
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(seen)
}

/// Who reaches chat `id` under `record_visibility: own` besides admins: its assignee and its
/// client's owner (none of them for a chat the tenant has not).
pub async fn keepers(tx: &mut TenantTx, id: ChatId) -> Result<Vec<UserId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        "SELECT h.assignee_user_id, c.owner_id FROM chats h JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
         WHERE h.tenant_id = $1 AND h.id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| [r.assignee_user_id, r.owner_id].into_iter().flatten().map(UserId).collect()).unwrap_or_default())
}

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
    assignee_user_id: Option<i64>,
    assignee_name: Option<String>,
    status: String,
    snoozed_until: Option<DateTime<Utc>>,
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
            assignee: match (r.assignee_user_id, r.assignee_name) {
                (Some(id), Some(name)) => Some(Assignee { id: UserId(id), name }),
                _ => None,
            },
            status: r.status.parse().map_err(|_| corrupt("status"))?,
            snoozed_until: r.snoozed_until,
            tags: Vec::new(),
        })
    }
}

const INBOX_SELECT: &str =
    "SELECT h.id, h.client_id, c.first_name, c.middle_name, c.last_name, c.phone, h.unread_count,
        m.id AS last_id, m.body AS last_body, m.direction AS last_direction, m.transport AS last_transport,
        m.status AS last_status, m.created_at AS last_at,
        (SELECT count(*) FROM message_attachments a WHERE a.tenant_id = m.tenant_id AND a.message_id = m.id)
            AS last_attachments,
        h.assignee_user_id, u.name AS assignee_name, h.status, h.snoozed_until
    FROM chats h
    JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
    LEFT JOIN messages m ON m.tenant_id = h.tenant_id AND m.id = h.last_message_id
    LEFT JOIN users u ON u.tenant_id = h.tenant_id AND u.id = h.assignee_user_id
    WHERE c.archived_at IS NULL AND h.tenant_id = ";

/// The chats `reader` reaches under `record_visibility: own`: assigned to them, or of a client
/// they own (`h` the chat, `c` its client).
fn push_reader(b: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, reader: Option<UserId>) {
    if let Some(r) = reader {
        b.push(" AND (h.assignee_user_id = ");
        b.push_bind(r.0);
        b.push(" OR c.owner_id = ");
        b.push_bind(r.0);
        b.push(")");
    }
}

/// A page of the inbox, newest activity first, of the chats `reader` reaches (all when none).
/// Chats nobody has written in yet are left out.
pub async fn inbox(tx: &mut TenantTx, query: &InboxQuery, reader: Option<UserId>) -> Result<Vec<InboxRow>, RepoError> {
    let records = inbox_records(tx, query, reader).await?;
    with_tags(tx, records).await
}

async fn inbox_records(
    tx: &mut TenantTx,
    query: &InboxQuery,
    reader: Option<UserId>,
) -> Result<Vec<InboxRecord>, RepoError> {
    let tenant = tx.tenant_id().0;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let mut b = sqlx::QueryBuilder::new(INBOX_SELECT);
    b.push_bind(tenant);
    if let Some(q) = q.filter(|_| reader.is_some() || query.tag_id.is_some()) {
        // A reader's own chats, or a tag's, are few: their client's words or a message's
        // text, in order.
        let patterns = super::clients::search_patterns(q);
        b.push(" AND h.last_message_at IS NOT NULL");
        if query.unread_only {
            b.push(" AND h.unread_count > 0");
        }
        push_view(&mut b, query.assignee, query.status);
        push_reader(&mut b, reader);
        push_tag(&mut b, query.tag_id);
        b.push(" AND ((cardinality(");
        b.push_bind(patterns.clone());
        b.push("::text[]) > 0 AND c.search LIKE ALL(");
        b.push_bind(patterns);
        b.push(")) OR EXISTS (SELECT 1 FROM messages t WHERE t.tenant_id = h.tenant_id AND t.chat_id = h.id");
        b.push(" AND t.search @@ plainto_tsquery('simple', ");
        b.push_bind(q.to_owned());
        b.push(")))");
        b.push(" ORDER BY h.last_message_at DESC NULLS LAST, h.id DESC LIMIT ");
        b.push_bind(query.limit);
        b.push(" OFFSET ");
        b.push_bind(query.offset);
        return Ok(b.build_query_as().fetch_all(tx.conn()).await?);
    }
    if let Some(q) = q {
        // A search finds its page in search_inbox (0007), through the indexes row-level
        // security keeps from this role; what it returns is shown in its order.
        let (assignee_kind, assignee) = match query.assignee {
            AssigneeFilter::Anyone => ("any", None),
            AssigneeFilter::Nobody => ("none", None),
            AssigneeFilter::User(u) => ("user", Some(u.0)),
        };
        let ids = sqlx::query_scalar!(
            r#"SELECT search_inbox($1, $2, $3, $4, $5, $6, $7, $8, $9) AS "ids!""#,
            &super::clients::search_patterns(q),
            q,
            query.unread_only,
            assignee_kind,
            assignee,
            query.status.map(ChatStatus::as_str),
            i32::try_from(query.limit).unwrap_or(i32::MAX),
            i32::try_from(query.offset).unwrap_or(i32::MAX),
            SEARCH_CAP
        )
        .fetch_one(tx.conn())
        .await?;
        b.push(" AND h.id = ANY(");
        b.push_bind(ids.clone());
        b.push(")");
        let mut rows: Vec<InboxRecord> = b.build_query_as().fetch_all(tx.conn()).await?;
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        return Ok(rows);
    }
    b.push(" AND h.last_message_at IS NOT NULL");
    if query.unread_only {
        b.push(" AND h.unread_count > 0");
    }
    push_view(&mut b, query.assignee, query.status);
    push_reader(&mut b, reader);
    push_tag(&mut b, query.tag_id);
    // NULLS LAST as in the indexes (DESC alone means NULLS FIRST, and no index would serve).
    b.push(" ORDER BY h.last_message_at DESC NULLS LAST, h.id DESC LIMIT ");
    b.push_bind(query.limit);
    b.push(" OFFSET ");
    b.push_bind(query.offset);
    Ok(b.build_query_as().fetch_all(tx.conn()).await?)
}

/// Only the chats carrying `tag`, when given.
fn push_tag(b: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, tag: Option<TagId>) {
    if let Some(tag) = tag {
        b.push(" AND EXISTS (SELECT 1 FROM chat_tags g WHERE g.tenant_id = h.tenant_id AND g.chat_id = h.id AND g.tag_id = ");
        b.push_bind(tag.0);
        b.push(")");
    }
}

/// The inbox rows of `records`, in their order, with their chats' tags.
async fn with_tags(tx: &mut TenantTx, records: Vec<InboxRecord>) -> Result<Vec<InboxRow>, RepoError> {
    let mut rows = records.into_iter().map(InboxRow::try_from).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    let mut tags = super::tags::on_each(tx, TaggedKind::Chat, &ids).await?;
    for row in &mut rows {
        row.tags = tags.remove(&row.id.0).unwrap_or_default();
    }
    Ok(rows)
}

/// The view's conditions: whose chats, and in which status.
fn push_view(b: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, assignee: AssigneeFilter, status: Option<ChatStatus>) {
    match assignee {
        AssigneeFilter::Anyone => {}
        AssigneeFilter::Nobody => {
            b.push(" AND h.assignee_user_id IS NULL");
        }
        AssigneeFilter::User(u) => {
            b.push(" AND h.assignee_user_id = ");
            b.push_bind(u.0);
        }
    }
    if let Some(status) = status {
        b.push(" AND h.status = ");
        b.push_bind(status.as_str());
    }
}

/// How many chats with messages each view holds, of `status` (any when absent), for `me`
/// (of those `reader` reaches, when given); each count stops at `VIEW_COUNT_CAP`.
pub async fn view_counts(
    tx: &mut TenantTx,
    me: UserId,
    status: Option<ChatStatus>,
    reader: Option<UserId>,
) -> Result<ViewCounts, RepoError> {
    let mut counts = ViewCounts::default();
    for (assignee, slot) in [
        (AssigneeFilter::User(me), &mut counts.mine),
        (AssigneeFilter::Nobody, &mut counts.unassigned),
        (AssigneeFilter::Anyone, &mut counts.all),
    ] {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT count(*) FROM (SELECT 1 FROM chats h JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
             WHERE c.archived_at IS NULL AND h.last_message_at IS NOT NULL AND h.tenant_id = ",
        );
        b.push_bind(tx.tenant_id().0);
        push_view(&mut b, assignee, status);
        push_reader(&mut b, reader);
        b.push(" LIMIT ");
        b.push_bind(VIEW_COUNT_CAP);
        b.push(") capped");
        *slot = b.build_query_scalar::<i64>().fetch_one(tx.conn()).await?;
    }
    Ok(counts)
}

/// Assigns the chat to `assignee` (or no one); `false` when it already was.
pub async fn assign(tx: &mut TenantTx, chat: ChatId, assignee: Option<UserId>) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE chats SET assignee_user_id = $3
         WHERE tenant_id = $1 AND id = $2 AND assignee_user_id IS DISTINCT FROM $3",
        tenant,
        chat.0,
        assignee.map(|u| u.0)
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the chat has no assignee, its row locked until the transaction ends.
pub async fn lock_unassigned(tx: &mut TenantTx, chat: ChatId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query_scalar!(
        r#"SELECT assignee_user_id IS NULL AS "free!" FROM chats WHERE tenant_id = $1 AND id = $2 FOR UPDATE"#,
        tenant,
        chat.0
    )
    .fetch_optional(tx.conn())
    .await?;
    r.ok_or(RepoError::NotFound)
}

/// Sets the chat's status (and the time a snooze ends); `false` when nothing changed.
pub async fn set_status(tx: &mut TenantTx, chat: ChatId, change: StatusChange) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE chats SET status = $3, snoozed_until = $4
         WHERE tenant_id = $1 AND id = $2 AND (status, snoozed_until) IS DISTINCT FROM ($3, $4)",
        tenant,
        chat.0,
        change.status().as_str(),
        change.snoozed_until()
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Opens a resolved or snoozed chat again (the client wrote); `false` when it was not.
pub async fn reopen(tx: &mut TenantTx, chat: ChatId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE chats SET status = 'open', snoozed_until = NULL
         WHERE tenant_id = $1 AND id = $2 AND status IN ('resolved', 'snoozed')",
        tenant,
        chat.0
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whom the chat is assigned to, if anyone.
pub async fn assignee(tx: &mut TenantTx, chat: ChatId) -> Result<Option<UserId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row =
        sqlx::query_scalar!("SELECT assignee_user_id FROM chats WHERE tenant_id = $1 AND id = $2", tenant, chat.0)
            .fetch_one(tx.conn())
            .await?;
    Ok(row.map(UserId))
}

/// Ends up to `limit` snoozes that are due, in every tenant, each once however many nodes
/// ask (wake_snoozed_chats, 0016). Returns the chats opened.
pub async fn wake_snoozed(pool: &sqlx::PgPool, limit: i32) -> Result<Vec<(TenantId, ChatId)>, RepoError> {
    let rows =
        sqlx::query!(r#"SELECT tenant_id AS "tenant_id!", chat_id AS "chat_id!" FROM wake_snoozed_chats($1)"#, limit)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| (TenantId(r.tenant_id), ChatId(r.chat_id))).collect())
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
    let row = row.ok_or(RepoError::NotFound)?;
    Ok(with_tags(tx, vec![row]).await?.pop().expect("one row in, one out"))
}

/// The client messages no one on the staff has read, over the tenant's live clients.
pub async fn unread_total(tx: &mut TenantTx, reader: Option<UserId>) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    let total = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(h.unread_count), 0)::bigint AS "total!" FROM chats h
           JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
           WHERE h.tenant_id = $1 AND h.unread_count > 0 AND c.archived_at IS NULL
             AND ($2::bigint IS NULL OR h.assignee_user_id = $2 OR c.owner_id = $2)"#,
        tenant,
        reader.map(|r| r.0)
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
