//! Chats: a client's one conversation, writing in it (outbound messages go to the outbox in
//! the same transaction), the inbox and its unread counts, and delivery reports that only move
//! a message forward.

use bytes::Bytes;
use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::chat::{Attachment, Message};
use crate::domain::chat::{Chat, InboxQuery, InboxRow, Member};
use crate::domain::chat::{ChatId, DeliveryStatus, MessageId, Transport};
use crate::domain::{ClientId, DomainEvent, Permission, Principal, TenantId, UserId};
use crate::events::EventBus;
use crate::repos::chats;
use crate::repos::messages;
use crate::repos::{audit, clients, outbox};

use super::{FileStore, MessageTemplateService, Providers, ServiceError};

mod live;
mod reports;
mod send;
mod work;

pub use live::{ChatFacts, ListChange, Live, LiveChange};
pub use reports::TwilioReport;
pub(crate) use reports::report_in;
pub use send::{Outgoing, Route, Upload};
pub(crate) use work::assign_in_turn;

#[derive(Clone)]
pub struct ChatService {
    pool: PgPool,
    events: EventBus,
    files: FileStore,
    /// Which transports a tenant can send on, and through what.
    providers: Providers,
    message_templates: MessageTemplateService,
    /// This node's live feeds, by tenant (`live`).
    feeds: live::Feeds,
}

impl ChatService {
    pub fn new(
        pool: PgPool,
        events: EventBus,
        files: FileStore,
        providers: Providers,
        message_templates: MessageTemplateService,
    ) -> Self {
        Self { pool, events, files, providers, message_templates, feeds: Default::default() }
    }

    /// The same service sending through `providers` (tests and demos give fixed ones).
    pub fn with_providers(mut self, providers: Providers) -> Self {
        self.providers = providers;
        self
    }

    /// A transaction for `by`, who must hold `need`, and whose chats alone they reach (`None`:
    /// all of the tenant's). Under `record_visibility: own`, a non-admin reaches the chats
    /// assigned to them and those of clients they own.
    pub(super) async fn begin(
        &self,
        by: &Principal,
        need: &[Permission],
    ) -> Result<(TenantTx, Option<UserId>), ServiceError> {
        super::scoped(&self.pool, by, need).await
    }

    /// `NotFound` unless `by` reaches the chat (and may do what `need` says), in a
    /// transaction of its own: for use cases that open their own afterwards.
    pub(super) async fn must_reach(
        &self,
        by: &Principal,
        need: &[Permission],
        chat: ChatId,
    ) -> Result<(), ServiceError> {
        let (mut tx, scope) = self.begin(by, need).await?;
        reach(&mut tx, chat, scope).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The transports the tenant can send on (a note always).
    pub async fn transports(&self, tenant: TenantId) -> Result<Vec<Transport>, ServiceError> {
        self.providers.transports(tenant).await
    }

    /// The client's chat, if one has been started: reading changes nothing. `NotFound` for a
    /// client the tenant has not (or not live).
    pub async fn find_for_client(&self, by: &Principal, client: ClientId) -> Result<Option<Chat>, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ClientRead, Permission::ChatRead]).await?;
        clients::get(&mut tx, client).await?;
        super::clients::reach(&mut tx, client, scope).await?;
        let chat = chats::of_client(&mut tx, client).await?;
        tx.commit().await?;
        Ok(chat)
    }

    /// The client's chat, started (audited and announced) if there was none: `true` with it
    /// when it was.
    pub async fn open_for_client(&self, by: &Principal, client: ClientId) -> Result<(Chat, bool), ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ClientRead, Permission::ChatCreate]).await?;
        super::clients::reach(&mut tx, client, scope).await?;
        let (chat, made) = chats::for_client(&mut tx, client).await?;
        if made {
            let entry =
                audit::Entry { action: "created", entity: "chat", entity_id: &chat.id.to_string(), summary: "" };
            audit::record(&mut tx, &by.actor(), entry).await?;
        }
        tx.commit().await?;
        if made {
            self.events.publish(DomainEvent::ChatCreated {
                tenant_id: by.tenant_id,
                chat_id: chat.id,
                client_id: client,
            });
        }
        Ok((chat, made))
    }

    /// A page of the inbox, newest activity first.
    pub async fn inbox(&self, by: &Principal, query: &InboxQuery) -> Result<Vec<InboxRow>, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatRead]).await?;
        let rows = chats::inbox(&mut tx, query, scope).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// One chat as the inbox shows it, with its members.
    pub async fn chat(&self, by: &Principal, id: ChatId) -> Result<(InboxRow, Vec<Member>), ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatRead]).await?;
        reach(&mut tx, id, scope).await?;
        let row = chats::inbox_row(&mut tx, id).await?;
        let members = chats::members(&mut tx, id).await?;
        tx.commit().await?;
        Ok((row, members))
    }

    /// The client's messages no one on the staff has read, over the whole inbox.
    pub async fn unread_total(&self, by: &Principal) -> Result<i64, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatRead]).await?;
        let total = chats::unread_total(&mut tx, scope).await?;
        tx.commit().await?;
        Ok(total)
    }

    /// A page of a chat's messages, newest first (`before`: older than that message).
    pub async fn thread(
        &self,
        by: &Principal,
        chat: ChatId,
        before: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<Message>, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatRead]).await?;
        reach(&mut tx, chat, scope).await?;
        let page = messages::thread(&mut tx, chat, before, limit.clamp(1, 100)).await?;
        tx.commit().await?;
        Ok(page)
    }

    /// Marks the client's messages read up to `up_to` (what the reader was shown), or all.
    pub async fn mark_read(&self, by: &Principal, chat: ChatId, up_to: Option<MessageId>) -> Result<u64, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatUpdate]).await?;
        reach(&mut tx, chat, scope).await?;
        let read = chats::mark_read(&mut tx, chat, up_to).await?;
        tx.commit().await?;
        if read > 0 {
            self.events.publish(DomainEvent::ChatRead { tenant_id: by.tenant_id, chat_id: chat });
        }
        Ok(read)
    }

    /// Marks one of the client's messages read.
    pub async fn mark_message_read(
        &self,
        by: &Principal,
        chat: ChatId,
        message: MessageId,
    ) -> Result<(), ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatUpdate]).await?;
        reach(&mut tx, chat, scope).await?;
        let read = chats::mark_message_read(&mut tx, chat, message).await?;
        tx.commit().await?;
        if read {
            self.events.publish(DomainEvent::ChatRead { tenant_id: by.tenant_id, chat_id: chat });
        }
        Ok(())
    }

    /// Sends again a message that failed, or whose fate is unknown: back to `queued` and into
    /// the outbox.
    pub async fn retry(&self, by: &Principal, chat: ChatId, id: MessageId) -> Result<Message, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatUpdate]).await?;
        reach(&mut tx, chat, scope).await?;
        let message = messages::message_for_update(&mut tx, id).await?;
        if message.chat_id != chat {
            return Err(ServiceError::NotFound);
        }
        match message.status {
            // Waiting for its next pass after a failure: now, rather than at its time.
            Some(DeliveryStatus::Queued) => {
                if !outbox::due_now(&mut tx, id).await? {
                    return Err(ServiceError::Refused { code: "retry_not_failed" });
                }
            }
            Some(status) if status.may_retry() => {
                messages::requeue(&mut tx, id).await?;
                outbox::enqueue(&mut tx, id, None).await?;
            }
            _ => return Err(ServiceError::Refused { code: "retry_not_failed" }),
        }
        let summary = format!("message {id}");
        let entry =
            audit::Entry { action: "message_retried", entity: "chat", entity_id: &chat.to_string(), summary: &summary };
        audit::record(&mut tx, &by.actor(), entry).await?;
        let message = messages::message(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::MessageStatusChanged {
            tenant_id: by.tenant_id,
            chat_id: chat,
            message_id: id,
            status: DeliveryStatus::Queued,
        });
        Ok(message)
    }

    /// An attachment of a chat's message, with its bytes.
    pub async fn attachment(&self, by: &Principal, chat: ChatId, id: i64) -> Result<(Attachment, Bytes), ServiceError> {
        self.must_reach(by, &[Permission::ChatRead], chat).await?;
        self.attachment_of(by.tenant_id, chat, id).await
    }

    /// An attachment of a chat's message, for a signed link (the signature is the permission).
    pub async fn linked_attachment(
        &self,
        (tenant, chat, id): crate::services::files::MediaFile,
    ) -> Result<(Attachment, Bytes), ServiceError> {
        self.attachment_of(tenant, chat, id).await
    }

    async fn attachment_of(
        &self,
        tenant: TenantId,
        chat: ChatId,
        id: i64,
    ) -> Result<(Attachment, Bytes), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        chats::get(&mut tx, chat).await?;
        let attachment = messages::attachment(&mut tx, chat, id).await?;
        tx.commit().await?;
        let bytes = self.files.get(&attachment.storage_key).await?;
        Ok((attachment, bytes))
    }

    /// Live updates of `by`'s tenant (and of the others: the listener filters), for one who may
    /// read chats.
    /// One message of the tenant, with its attachments: for the workers, which act for no
    /// reader.
    pub async fn message(&self, tenant: TenantId, id: MessageId) -> Result<Message, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let message = messages::message(&mut tx, id).await?;
        tx.commit().await?;
        Ok(message)
    }

    /// For inbox search results: the newest message of each chat whose text has the words of
    /// `q` (the "why" a chat was found), by chat.
    pub async fn search_hits(
        &self,
        by: &Principal,
        chats: &[ChatId],
        q: &str,
    ) -> Result<std::collections::HashMap<ChatId, (MessageId, String)>, ServiceError> {
        super::require(by, &[Permission::ChatRead])?;
        if chats.is_empty() || q.trim().is_empty() {
            return Ok(Default::default());
        }
        let (mut tx, scope) = self.begin(by, &[Permission::ChatRead]).await?;
        let mut hits = messages::matching(&mut tx, chats, q).await?;
        if let Some(reader) = scope {
            let mut seen = Vec::new();
            for hit in hits {
                if chats::visible_to(&mut tx, hit.0, reader).await? {
                    seen.push(hit);
                }
            }
            hits = seen;
        }
        tx.commit().await?;
        Ok(hits.into_iter().map(|(chat, id, body)| (chat, (id, body))).collect())
    }
}

/// The chat, `NotFound` unless the tenant has it (its client live) and the reader reaches it
/// (`scope`, under `record_visibility: own`).
pub(super) async fn reach(tx: &mut TenantTx, chat: ChatId, scope: Option<UserId>) -> Result<Chat, ServiceError> {
    let found = chats::get(tx, chat).await?;
    match scope {
        Some(reader) if !chats::visible_to(tx, chat, reader).await? => Err(ServiceError::NotFound),
        _ => Ok(found),
    }
}
