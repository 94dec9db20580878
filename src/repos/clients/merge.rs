//! Merging two clients and undoing it: moving contacts and the conversation between them, and
//! the `client_merges` record of what moved.

use crate::db::TenantTx;
use crate::domain::ClientId;
use crate::domain::chat::ChatId;

use super::super::RepoError;

/// What one merge moved, as recorded.
pub struct MergeRecord {
    pub id: i64,
    pub survivor: ClientId,
    pub contacts: Vec<i64>,
    pub messages: Vec<i64>,
    pub members: Vec<i64>,
    pub deals: Vec<i64>,
    /// The tags the survivor got from the merged client (it had none of them).
    pub tags: Vec<i64>,
    /// The notes, tasks and timeline entries moved to the survivor.
    pub notes: Vec<i64>,
    pub tasks: Vec<i64>,
    pub activities: Vec<i64>,
    /// The survivor's fields filled from the merged client.
    pub filled: serde_json::Map<String, serde_json::Value>,
}

/// Moves `from`'s contacts to `to`, but those `to` already has (same type and value), which
/// stay with `from`. Returns the ids moved.
pub async fn move_contacts(tx: &mut TenantTx, from: ClientId, to: ClientId) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    Ok(sqlx::query_scalar!(
        "UPDATE client_contacts k SET client_id = $3
         WHERE k.tenant_id = $1 AND k.client_id = $2
           AND NOT EXISTS (SELECT 1 FROM client_contacts o WHERE o.tenant_id = $1 AND o.client_id = $3
                           AND o.type = k.type AND o.value = k.value)
         RETURNING k.id",
        tenant,
        from.0,
        to.0
    )
    .fetch_all(tx.conn())
    .await?)
}

/// Puts `from`'s tags on `to` too (the archived `from` keeps them). Returns the ids of those
/// `to` did not carry yet.
pub async fn copy_tags(tx: &mut TenantTx, from: ClientId, to: ClientId) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    Ok(sqlx::query_scalar!(
        "INSERT INTO client_tags (tenant_id, client_id, tag_id)
         SELECT tenant_id, $3, tag_id FROM client_tags WHERE tenant_id = $1 AND client_id = $2
         ON CONFLICT DO NOTHING RETURNING tag_id",
        tenant,
        from.0,
        to.0
    )
    .fetch_all(tx.conn())
    .await?)
}

/// Takes the tags `ids` off `client` (those a merge put on it).
pub async fn remove_tags(tx: &mut TenantTx, client: ClientId, ids: &[i64]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "DELETE FROM client_tags WHERE tenant_id = $1 AND client_id = $2 AND tag_id = ANY($3)",
        tenant,
        client.0,
        ids
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves the contacts `ids` (still with `from`) back to `to`.
pub async fn return_contacts(tx: &mut TenantTx, ids: &[i64], from: ClientId, to: ClientId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE client_contacts SET client_id = $4 WHERE tenant_id = $1 AND id = ANY($2) AND client_id = $3",
        tenant,
        ids,
        from.0,
        to.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves messages and members from one chat to another: all messages when `only` is `None`,
/// else those listed; members unless the other chat has the same one. Returns the ids moved.
pub async fn move_conversation(
    tx: &mut TenantTx,
    from: ChatId,
    to: ChatId,
    only: Option<(&[i64], &[i64])>,
) -> Result<(Vec<i64>, Vec<i64>), RepoError> {
    let tenant = tx.tenant_id().0;
    let (messages, members) = only.map_or((None, None), |(m, k)| (Some(m), Some(k)));
    let moved_messages = sqlx::query_scalar!(
        "UPDATE messages SET chat_id = $3 WHERE tenant_id = $1 AND chat_id = $2 AND ($4::bigint[] IS NULL OR id = ANY($4))
         RETURNING id",
        tenant,
        from.0,
        to.0,
        messages
    )
    .fetch_all(tx.conn())
    .await?;
    let moved_members = sqlx::query_scalar!(
        "UPDATE chat_members m SET chat_id = $3
         WHERE m.tenant_id = $1 AND m.chat_id = $2 AND ($4::bigint[] IS NULL OR m.id = ANY($4))
           AND NOT EXISTS (SELECT 1 FROM chat_members o WHERE o.tenant_id = $1 AND o.chat_id = $3
                           AND (o.user_id = m.user_id OR (o.contact_id = m.contact_id AND o.transport = m.transport)))
         RETURNING m.id",
        tenant,
        from.0,
        to.0,
        members
    )
    .fetch_all(tx.conn())
    .await?;
    for chat in [from, to] {
        refresh_chat(tx, chat).await?;
    }
    Ok((moved_messages, moved_members))
}

/// Recounts a chat's newest message and unread count from its messages.
async fn refresh_chat(tx: &mut TenantTx, chat: ChatId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE chats h SET last_message_id = l.id, last_message_at = l.created_at,
                unread_count = (SELECT count(*) FROM messages m WHERE m.tenant_id = $1 AND m.chat_id = $2
                                AND m.direction = 'inbound' AND m.read_at IS NULL)
         FROM (SELECT max(id) AS id, max(created_at) AS created_at FROM messages WHERE tenant_id = $1 AND chat_id = $2) l
         WHERE h.tenant_id = $1 AND h.id = $2",
        tenant,
        chat.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Clears the unique fields (`phone`, `pin`) a merge hands to the survivor.
pub async fn release_unique(tx: &mut TenantTx, client: ClientId, phone: bool, pin: bool) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE clients SET phone = CASE WHEN $3 THEN NULL ELSE phone END, pin = CASE WHEN $4 THEN NULL ELSE pin END
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        client.0,
        phone,
        pin
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Gives back the phone and PIN a merge took (`None` leaves a field as it is).
pub async fn take_back_unique(
    tx: &mut TenantTx,
    client: ClientId,
    phone: Option<&str>,
    pin: Option<&str>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE clients SET phone = coalesce($3, phone), pin = coalesce($4, pin) WHERE tenant_id = $1 AND id = $2",
        tenant,
        client.0,
        phone,
        pin
    )
    .execute(tx.conn())
    .await
    .map_err(super::super::conflict_on(super::CLIENT_UNIQUE))?;
    Ok(())
}

/// Archives the merged client, pointing to the survivor.
pub async fn archive_into(tx: &mut TenantTx, merged: ClientId, survivor: ClientId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE clients SET archived_at = now(), merged_into = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        merged.0,
        survivor.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub struct NewMerge<'a> {
    pub survivor: ClientId,
    pub merged: ClientId,
    pub contacts: &'a [i64],
    pub messages: &'a [i64],
    pub members: &'a [i64],
    pub deals: &'a [i64],
    pub tags: &'a [i64],
    /// The notes, tasks and timeline entries moved over.
    pub notes: &'a [i64],
    pub tasks: &'a [i64],
    pub activities: &'a [i64],
    pub filled: serde_json::Value,
}

pub async fn record(tx: &mut TenantTx, m: NewMerge<'_>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO client_merges (tenant_id, survivor_id, merged_id, contact_ids, message_ids, member_ids, deal_ids,
                                    tag_ids, filled, note_ids, task_ids, activity_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        tenant,
        m.survivor.0,
        m.merged.0,
        m.contacts,
        m.messages,
        m.members,
        m.deals,
        m.tags,
        m.filled,
        m.notes,
        m.tasks,
        m.activities
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The merge that archived `merged`, not undone yet.
pub async fn open_merge(tx: &mut TenantTx, merged: ClientId) -> Result<Option<MergeRecord>, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query!(
        "SELECT id, survivor_id, contact_ids, message_ids, member_ids, deal_ids, tag_ids, filled, note_ids, task_ids,
                activity_ids
         FROM client_merges
         WHERE tenant_id = $1 AND merged_id = $2 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
        tenant,
        merged.0
    )
    .fetch_optional(tx.conn())
    .await?;
    r.map(|r| {
        let filled = match r.filled {
            serde_json::Value::Object(map) => map,
            _ => return Err(RepoError::Corrupt(format!("client merge {}: filled", r.id))),
        };
        Ok(MergeRecord {
            id: r.id,
            survivor: ClientId(r.survivor_id),
            contacts: r.contact_ids,
            messages: r.message_ids,
            members: r.member_ids,
            deals: r.deal_ids,
            tags: r.tag_ids,
            notes: r.note_ids,
            tasks: r.task_ids,
            activities: r.activity_ids,
            filled,
        })
    })
    .transpose()
}

/// Marks a merge undone and the merged client no longer merged.
pub async fn mark_undone(tx: &mut TenantTx, merge: i64, merged: ClientId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("UPDATE client_merges SET undone_at = now() WHERE tenant_id = $1 AND id = $2", tenant, merge)
        .execute(tx.conn())
        .await?;
    sqlx::query!("UPDATE clients SET merged_into = NULL WHERE tenant_id = $1 AND id = $2", tenant, merged.0)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Clients (archived ones too, merged ones not) that share a number or contact with `client`:
/// maybe the same person. Id, name and whether archived; live first, then most recent.
pub async fn twins(tx: &mut TenantTx, client: ClientId) -> Result<Vec<(ClientId, String, bool)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        r#"WITH mine AS (
               SELECT value FROM client_contacts WHERE tenant_id = $1 AND client_id = $2
               UNION SELECT phone FROM clients WHERE tenant_id = $1 AND id = $2 AND phone IS NOT NULL
           )
           SELECT c.id, concat_ws(' ', c.first_name, c.middle_name, c.last_name) AS "name!",
                  c.archived_at IS NOT NULL AS "archived!"
           FROM clients c
           WHERE c.tenant_id = $1 AND c.id <> $2 AND c.merged_into IS NULL
             AND (c.phone IN (SELECT value FROM mine)
                  OR EXISTS (SELECT 1 FROM client_contacts k WHERE k.tenant_id = $1 AND k.client_id = c.id
                             AND k.value IN (SELECT value FROM mine)))
           ORDER BY c.archived_at DESC NULLS FIRST, c.id DESC LIMIT 5"#,
        tenant,
        client.0
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (ClientId(r.id), r.name, r.archived)).collect())
}

/// Locks both clients (lowest id first, so two merges of the same pair cannot deadlock) and
/// says, for each, whether it was merged into another already (`None`: no such client).
pub async fn lock_pair(tx: &mut TenantTx, a: ClientId, b: ClientId) -> Result<(Option<bool>, Option<bool>), RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        "SELECT id, merged_into IS NOT NULL AS \"merged!\" FROM clients
         WHERE tenant_id = $1 AND id IN ($2, $3) ORDER BY id FOR UPDATE",
        tenant,
        a.0,
        b.0
    )
    .fetch_all(tx.conn())
    .await?;
    let merged = |id: ClientId| rows.iter().find(|r| r.id == id.0).map(|r| r.merged);
    Ok((merged(a), merged(b)))
}

/// The client's chat, archived client or not.
pub async fn chat_of(tx: &mut TenantTx, client: ClientId) -> Result<Option<ChatId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!("SELECT id FROM chats WHERE tenant_id = $1 AND client_id = $2", tenant, client.0)
        .fetch_optional(tx.conn())
        .await?;
    Ok(id.map(ChatId))
}
