//! Notes on clients, companies and deals, and their threaded comments. Read by whoever reads
//! the record; written by whoever may write it. Only a note's author (or an admin) edits or
//! deletes it. Each note and comment goes on the record's timeline in its transaction, and
//! each colleague it mentions is notified.

use serde_json::json;
use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::activity::{ActivityKind, NewActivity, excerpt};
use crate::domain::note::{self, CommentId, Note, NoteId};
use crate::domain::notification::{NewNotification, NotificationKind};
use crate::domain::record::RecordRef;
use crate::domain::{DomainEvent, Principal, Role, UserId};
use crate::events::EventBus;
use crate::repos::{activities, notes as repo, users};

use super::notifications::{Told, tell};
use super::records::{reach, write_permission};
use super::{ServiceError, require};

/// How many notes a record's page shows at once.
pub const PAGE: i64 = 20;

#[derive(Clone)]
pub struct NoteService {
    pool: PgPool,
    events: EventBus,
}

impl NoteService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// `on`'s notes older than `before`, newest first, with their comments.
    pub async fn list(
        &self,
        by: &Principal,
        on: RecordRef,
        before: Option<NoteId>,
        limit: i64,
    ) -> Result<Vec<Note>, ServiceError> {
        let (mut tx, scope) = super::scoped(&self.pool, by, &[]).await?;
        reach(&mut tx, by, scope, on).await?;
        let found = repo::of(&mut tx, on, before, limit).await?;
        tx.commit().await?;
        Ok(found)
    }

    pub async fn get(&self, by: &Principal, id: NoteId) -> Result<Note, ServiceError> {
        let (mut tx, scope) = super::scoped(&self.pool, by, &[]).await?;
        let note = repo::get(&mut tx, id).await?;
        reach(&mut tx, by, scope, note.on).await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Refuses (`Forbidden`) unless `by` may write notes on records of `on`'s kind: for a
    /// form offered before anything is sent.
    pub fn may_write(&self, by: &Principal, on: RecordRef) -> bool {
        by.can(write_permission(on))
    }

    /// The names of the colleagues `by` may mention (everyone active but themself), by name.
    pub async fn colleagues(&self, by: &Principal) -> Result<Vec<String>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let people = users::mentionable(&mut tx).await?;
        tx.commit().await?;
        Ok(people.into_iter().filter(|p| p.id != by.user_id).map(|p| p.name).collect())
    }

    /// A note on `on`; everyone it mentions is told.
    pub async fn add(&self, by: &Principal, on: RecordRef, body: &str) -> Result<Note, ServiceError> {
        require(by, &[write_permission(on)])?;
        let body = note::parse_note(body)?;
        let (mut tx, scope) = super::scoped(&self.pool, by, &[]).await?;
        let name = reach(&mut tx, by, scope, on).await?;
        let id = repo::insert(&mut tx, on, by.user_id, &body).await?;
        let entry = NewActivity::new(on, ActivityKind::Note, by.actor(), excerpt(&body)).with(json!({"note_id": id.0}));
        activities::record(&mut tx, &entry).await?;
        let told = mention(&mut tx, by, &body, &[], on, &name).await?;
        let note = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::NoteAdded { tenant_id: by.tenant_id, note_id: id, on, comment: None });
        told.publish(&self.events);
        Ok(note)
    }

    /// Rewrites a note (its author, or an admin); colleagues newly mentioned are told.
    pub async fn edit(&self, by: &Principal, id: NoteId, body: &str) -> Result<Note, ServiceError> {
        let body = note::parse_note(body)?;
        let (mut tx, before, name) = self.own_note(by, id).await?;
        if before.body == body {
            return Ok(before);
        }
        repo::update(&mut tx, id, &body).await?;
        let people = users::mentionable(&mut tx).await?;
        let already = note::mentions(&before.body, &people);
        let told = mention(&mut tx, by, &body, &already, before.on, &name).await?;
        let note = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        told.publish(&self.events);
        Ok(note)
    }

    /// Deletes a note and its comments (its author, or an admin).
    pub async fn delete(&self, by: &Principal, id: NoteId) -> Result<(), ServiceError> {
        let (mut tx, _, _) = self.own_note(by, id).await?;
        repo::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A comment on a note, answering `parent` (a comment of the same note: else 422
    /// `parent_id`); everyone it mentions is told.
    pub async fn comment(
        &self,
        by: &Principal,
        id: NoteId,
        parent: Option<CommentId>,
        body: &str,
    ) -> Result<Note, ServiceError> {
        let body = note::parse_comment(body)?;
        let (mut tx, scope) = super::scoped(&self.pool, by, &[]).await?;
        repo::lock(&mut tx, id).await?;
        let on = repo::get(&mut tx, id).await?.on;
        require(by, &[write_permission(on)])?;
        let name = reach(&mut tx, by, scope, on).await?;
        let comment = match repo::insert_comment(&mut tx, id, parent, by.user_id, &body).await {
            Err(crate::repos::RepoError::NotFound) => {
                return Err(crate::domain::DomainError::new("parent_id", "unknown_comment").into());
            }
            other => other?,
        };
        let entry = NewActivity::new(on, ActivityKind::Comment, by.actor(), excerpt(&body))
            .with(json!({"note_id": id.0, "comment_id": comment.0}));
        activities::record(&mut tx, &entry).await?;
        let told = mention(&mut tx, by, &body, &[], on, &name).await?;
        let note = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::NoteAdded {
            tenant_id: by.tenant_id,
            note_id: id,
            on,
            comment: Some(comment),
        });
        told.publish(&self.events);
        Ok(note)
    }

    /// A transaction holding note `id` locked, which `by` may change: its author, or an
    /// admin, who still may write on its record and reaches it. With the note and its record's name.
    async fn own_note(&self, by: &Principal, id: NoteId) -> Result<(TenantTx, Note, String), ServiceError> {
        let (mut tx, scope) = super::scoped(&self.pool, by, &[]).await?;
        repo::lock(&mut tx, id).await?;
        let note = repo::get(&mut tx, id).await?;
        let name = reach(&mut tx, by, scope, note.on).await?;
        require(by, &[write_permission(note.on)])?;
        let author = note.author.as_ref().map(|a| a.id);
        if author != Some(by.user_id) && by.role != Role::Admin {
            return Err(ServiceError::Forbidden);
        }
        Ok((tx, note, name))
    }
}

/// Tells the colleagues `body` mentions (but not its writer, nor those in `already`) that they
/// were named, in `tx`.
async fn mention(
    tx: &mut TenantTx,
    by: &Principal,
    body: &str,
    already: &[UserId],
    on: RecordRef,
    record_name: &str,
) -> Result<Told, ServiceError> {
    let people = users::mentionable(tx).await?;
    let notes = note::mentions(body, &people)
        .into_iter()
        .filter(|u| *u != by.user_id && !already.contains(u))
        .map(|user_id| NewNotification {
            user_id,
            kind: NotificationKind::Mention,
            data: json!({"by": by.name, "record": record_name, "entity": on.entity(), "excerpt": excerpt(body)}),
            url: format!("{}#notes", on.url()),
        })
        .collect();
    tell(tx, notes).await
}
