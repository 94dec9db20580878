//! How the team works the inbox: assigning chats, their status and snoozes, the views' counts,
//! and the worker that ends snoozes on time.

use std::time::Duration;

use tokio::sync::watch;

use crate::db::TenantTx;
use crate::domain::chat::{ChatChange, ChatId, ChatStatus, InboxRow, ViewCounts};
use crate::domain::settings::AutoAssign;
use crate::domain::tag::Tagged;
use crate::domain::{DomainError, DomainEvent, Permission, Principal, UserId};
use crate::repos::{audit, chats, tenants, users};
use crate::services::{ServiceError, tags};

use super::ChatService;

/// Who counts as signed in for round robin: seen on a live session this recently (an open
/// page's live stream signs in again every five minutes).
pub const PRESENT_WITHIN: Duration = Duration::from_secs(10 * 60);

/// How many due snoozes one pass of the waker ends.
const WAKE_BATCH: i32 = 100;

impl ChatService {
    /// Assigns a chat, changes its status and/or its tags, as `change` asks: each change
    /// audited, the chat announced once. The assignee must be an active user who may write in
    /// chats; tags are checked as on any record (`services::tags::put`).
    pub async fn change(&self, by: &Principal, chat: ChatId, change: ChatChange) -> Result<InboxRow, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatUpdate]).await?;
        super::reach(&mut tx, chat, scope).await?;
        let mut changed = false;
        if let Some(assignee) = change.assignee {
            let name = match assignee {
                Some(user) => Some(assignable(&mut tx, user).await?),
                None => None,
            };
            if chats::assign(&mut tx, chat, assignee).await? {
                let (action, summary) = match &name {
                    Some(name) => ("assigned", name.as_str()),
                    None => ("unassigned", ""),
                };
                let entry = audit::Entry { action, entity: "chat", entity_id: &chat.to_string(), summary };
                audit::record(&mut tx, &by.actor(), entry).await?;
                changed = true;
            }
        }
        if let Some(status) = change.status
            && chats::set_status(&mut tx, chat, status).await?
        {
            let summary = match status.snoozed_until() {
                Some(until) => format!("{} {}", status.status().as_str(), until.to_rfc3339()),
                None => status.status().as_str().to_owned(),
            };
            let entry = audit::Entry {
                action: "status_changed",
                entity: "chat",
                entity_id: &chat.to_string(),
                summary: &summary,
            };
            audit::record(&mut tx, &by.actor(), entry).await?;
            changed = true;
        }
        let tagged = tags::put(&mut tx, by, Tagged::Chat(chat), change.tag_ids.as_deref()).await?;
        if let Some(summary) = tagged.summary() {
            let entry =
                audit::Entry { action: "tagged", entity: "chat", entity_id: &chat.to_string(), summary: &summary };
            audit::record(&mut tx, &by.actor(), entry).await?;
            changed = true;
        }
        let row = chats::inbox_row(&mut tx, chat).await?;
        tx.commit().await?;
        tagged.publish(&self.events, by.tenant_id);
        if changed {
            self.events.publish(DomainEvent::ChatUpdated { tenant_id: by.tenant_id, chat_id: chat });
        }
        Ok(row)
    }

    /// The people a chat may be assigned to: active users who may write in chats, by name.
    pub async fn assignees(&self, by: &Principal) -> Result<Vec<(UserId, String)>, ServiceError> {
        crate::services::require(by, &[Permission::ChatRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let people = users::chat_workers(&mut tx, None).await?;
        tx.commit().await?;
        Ok(people)
    }

    /// How many chats the views Mine, Unassigned and All hold, of `status` (any when absent).
    pub async fn view_counts(&self, by: &Principal, status: Option<ChatStatus>) -> Result<ViewCounts, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatRead]).await?;
        let counts = chats::view_counts(&mut tx, by.user_id, status, scope).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Ends the snoozes that are due (each once, whichever node gets it) and announces them.
    /// `true` when a full batch was ended, so more may be due.
    pub async fn wake_snoozed(&self) -> Result<bool, ServiceError> {
        let woken = chats::wake_snoozed(&self.pool, WAKE_BATCH).await?;
        for (tenant_id, chat_id) in &woken {
            self.events.publish(DomainEvent::ChatUpdated { tenant_id: *tenant_id, chat_id: *chat_id });
        }
        Ok(woken.len() == WAKE_BATCH as usize)
    }

    /// Ends snoozes on time, for as long as the task lives: every `every`, on every node.
    pub fn spawn_snooze_waker(&self, every: Duration, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        crate::services::polling::spawn("snooze waker", every, None, stop, move || {
            let service = service.clone();
            async move { service.wake_snoozed().await }
        })
    }
}

/// The name of `user` if a chat may be assigned to them, else the reason it may not.
async fn assignable(tx: &mut TenantTx, user: UserId) -> Result<String, ServiceError> {
    match users::chat_workers(tx, Some(user)).await?.pop() {
        Some((_, name)) => Ok(name),
        None => Err(DomainError::new("assignee_id", "not_assignable").into()),
    }
}

/// Hands an unassigned chat to the next available agent when the tenant assigns round robin:
/// in `tx`, audited as the system's doing. Returns who got it.
pub(crate) async fn assign_in_turn(tx: &mut TenantTx, chat: ChatId) -> Result<Option<UserId>, ServiceError> {
    if tenants::settings(tx).await?.auto_assign != AutoAssign::RoundRobin || !chats::lock_unassigned(tx, chat).await? {
        return Ok(None);
    }
    let Some((user, name)) = users::take_turn(tx, PRESENT_WITHIN).await? else {
        return Ok(None);
    };
    chats::assign(tx, chat, Some(user)).await?;
    let entry = audit::Entry { action: "assigned", entity: "chat", entity_id: &chat.to_string(), summary: &name };
    audit::record(tx, &crate::domain::Actor::System, entry).await?;
    Ok(Some(user))
}
