//! The `notes` and `note_comments` tables: notes on clients, companies and deals, and their
//! threads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::note::{Comment, CommentId, Note, NoteId};
use crate::domain::record::RecordRef;
use crate::domain::{Named, UserId};

use super::RepoError;

pub async fn insert(tx: &mut TenantTx, on: RecordRef, author: UserId, body: &str) -> Result<NoteId, RepoError> {
    let tenant = tx.tenant_id().0;
    let (client, company, deal) = on.columns();
    let id = sqlx::query_scalar!(
        "INSERT INTO notes (tenant_id, client_id, company_id, deal_id, author_user_id, body)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        tenant,
        client,
        company,
        deal,
        author.0,
        body
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(NoteId(id))
}

#[derive(sqlx::FromRow)]
struct NoteRecord {
    id: i64,
    client_id: Option<i64>,
    company_id: Option<i64>,
    deal_id: Option<i64>,
    author_user_id: Option<i64>,
    author_name: Option<String>,
    body: String,
    created_at: DateTime<Utc>,
    edited_at: Option<DateTime<Utc>>,
}

impl NoteRecord {
    fn into_note(self) -> Result<Note, RepoError> {
        let on = RecordRef::from_columns(self.client_id, self.company_id, self.deal_id)
            .ok_or_else(|| RepoError::Corrupt(format!("note {}: record", self.id)))?;
        Ok(Note {
            id: NoteId(self.id),
            on,
            author: named(self.author_user_id, self.author_name),
            body: self.body,
            created_at: self.created_at,
            edited_at: self.edited_at,
            comments: Vec::new(),
        })
    }
}

fn named(id: Option<i64>, name: Option<String>) -> Option<Named<UserId>> {
    id.map(|id| Named { id: UserId(id), name: name.unwrap_or_default() })
}

/// A note with its comments.
pub async fn get(tx: &mut TenantTx, id: NoteId) -> Result<Note, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query_as!(
        NoteRecord,
        r#"SELECT n.id, n.client_id, n.company_id, n.deal_id, n.author_user_id, u.name AS "author_name?", n.body,
                  n.created_at, n.edited_at
           FROM notes n LEFT JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.author_user_id
           WHERE n.tenant_id = $1 AND n.id = $2"#,
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    let mut note = row.into_note()?;
    note.comments = comments(tx, &[note.id]).await?.remove(&note.id).unwrap_or_default();
    Ok(note)
}

/// `on`'s notes older than `before`, newest first, each with its comments.
pub async fn of(tx: &mut TenantTx, on: RecordRef, before: Option<NoteId>, limit: i64) -> Result<Vec<Note>, RepoError> {
    let tenant = tx.tenant_id().0;
    // The record's own column, so the query meets that column's partial index.
    let column = super::records::column(on);
    let rows: Vec<NoteRecord> = sqlx::query_as(&format!(
        "SELECT n.id, n.client_id, n.company_id, n.deal_id, n.author_user_id, u.name AS author_name, n.body,
                n.created_at, n.edited_at
         FROM notes n LEFT JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.author_user_id
         WHERE n.tenant_id = $1 AND n.{column} = $2 AND n.{column} IS NOT NULL AND n.id < $3
         ORDER BY n.id DESC LIMIT $4"
    ))
    .bind(tenant)
    .bind(on.id())
    .bind(before.map_or(i64::MAX, |b| b.0))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    let mut notes: Vec<Note> = rows.into_iter().map(NoteRecord::into_note).collect::<Result<_, _>>()?;
    let ids: Vec<NoteId> = notes.iter().map(|n| n.id).collect();
    let mut threads = comments(tx, &ids).await?;
    for n in &mut notes {
        n.comments = threads.remove(&n.id).unwrap_or_default();
    }
    Ok(notes)
}

/// The comments of each of `notes`, oldest first.
async fn comments(tx: &mut TenantTx, notes: &[NoteId]) -> Result<HashMap<NoteId, Vec<Comment>>, RepoError> {
    let tenant = tx.tenant_id().0;
    let ids: Vec<i64> = notes.iter().map(|n| n.0).collect();
    let rows = sqlx::query!(
        r#"SELECT c.id, c.note_id, c.parent_id, c.author_user_id, u.name AS "author_name?", c.body, c.created_at
           FROM note_comments c LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.author_user_id
           WHERE c.tenant_id = $1 AND c.note_id = ANY($2)
           ORDER BY c.note_id, c.id"#,
        tenant,
        &ids
    )
    .fetch_all(tx.conn())
    .await?;
    let mut found: HashMap<NoteId, Vec<Comment>> = HashMap::new();
    for r in rows {
        found.entry(NoteId(r.note_id)).or_default().push(Comment {
            id: CommentId(r.id),
            parent_id: r.parent_id.map(CommentId),
            author: named(r.author_user_id, r.author_name),
            body: r.body,
            created_at: r.created_at,
        });
    }
    Ok(found)
}

/// Locks note `id` for the rest of the transaction (an edit, a delete, a comment).
pub async fn lock(tx: &mut TenantTx, id: NoteId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!("SELECT id FROM notes WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    Ok(())
}

pub async fn update(tx: &mut TenantTx, id: NoteId, body: &str) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE notes SET body = $3, edited_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        body
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Deletes a note and its comments.
pub async fn delete(tx: &mut TenantTx, id: NoteId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done =
        sqlx::query!("DELETE FROM notes WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// A comment on `note`, answering `parent` (a comment of the same note) when given; a parent
/// of another note is `NotFound`.
pub async fn insert_comment(
    tx: &mut TenantTx,
    note: NoteId,
    parent: Option<CommentId>,
    author: UserId,
    body: &str,
) -> Result<CommentId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO note_comments (tenant_id, note_id, parent_id, author_user_id, body)
         SELECT $1, $2, $3, $4, $5
         WHERE $3::bigint IS NULL
            OR EXISTS (SELECT 1 FROM note_comments p WHERE p.tenant_id = $1 AND p.note_id = $2 AND p.id = $3)
         RETURNING id",
        tenant,
        note.0,
        parent.map(|p| p.0),
        author.0,
        body
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok(CommentId(id))
}
