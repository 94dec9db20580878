//! Chats: a client's one conversation, writing in it (outbound messages go to the outbox in
//! the same transaction), the inbox and its unread counts, and delivery reports that only move
//! a message forward.

use bytes::Bytes;
use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::attachment::{FileSpec, MAX_FILES};
use crate::domain::chat::{
    ChatId, DeliveryStatus, Direction, MessageBody, MessageId, Sender, Transport, render_template,
};
use crate::domain::{
    ClientId, ContactId, ContactType, ContactValue, DomainError, DomainEvent, Permission, Principal, TenantId,
};
use crate::events::EventBus;
use crate::repos::chats::{self, Chat, InboxQuery, InboxRow, Joiner, Member};
use crate::repos::messages::{self, Attachment, Message, NewAttachment, NewMessage};
use crate::repos::{audit, clients, outbox};
use crate::transport::twilio;

use super::{FileStore, MessageTemplateService, Providers, ServiceError};

#[derive(Clone)]
pub struct ChatService {
    pool: PgPool,
    events: EventBus,
    files: FileStore,
    /// Which transports a tenant can send on, and through what.
    providers: Providers,
    message_templates: MessageTemplateService,
}

/// What staff write, as the composer or the API says it: the text (or a template to fill in
/// for the client), how it goes, and files.
pub struct Outgoing<'a> {
    pub body: &'a str,
    /// A note, or a transport the tenant has a channel for. `None`: the first way that reaches
    /// the client (through `contact`, if one is named).
    pub transport: Option<Transport>,
    /// The contact to send to; the client's first contact the transport reaches when absent.
    pub contact: Option<ContactId>,
    /// When `body` is blank: this template, filled in for the client by the sender.
    pub template: Option<i64>,
    pub files: Vec<Upload>,
}

/// A Twilio status callback, as its fields say it: the message's sid, Twilio's status word, and
/// its error code with Twilio's message, if any.
pub struct TwilioReport<'a> {
    pub sid: &'a str,
    pub status: &'a str,
    pub error: Option<(&'a str, Option<&'a str>)>,
}

/// A file as uploaded: the name the user's machine gave it and its bytes.
pub struct Upload {
    pub file_name: String,
    pub bytes: Bytes,
}

/// An uploaded file, checked and put in the file store, waiting for its row.
struct StoredFile {
    spec: FileSpec,
    key: String,
    size: i64,
}

fn keys(files: &[StoredFile]) -> Vec<String> {
    files.iter().map(|f| f.key.clone()).collect()
}

/// A way the composer can send: a transport and the contact it reaches (`None`: the client's
/// own phone number, which becomes a contact on first use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub transport: Transport,
    pub contact: Option<ContactId>,
    pub value: String,
}

impl ChatService {
    pub fn new(
        pool: PgPool,
        events: EventBus,
        files: FileStore,
        providers: Providers,
        message_templates: MessageTemplateService,
    ) -> Self {
        Self { pool, events, files, providers, message_templates }
    }

    /// The same service sending through `providers` (tests and demos give fixed ones).
    pub fn with_providers(mut self, providers: Providers) -> Self {
        self.providers = providers;
        self
    }

    /// The transports the tenant can send on (a note always).
    pub async fn transports(&self, tenant: TenantId) -> Result<Vec<Transport>, ServiceError> {
        self.providers.transports(tenant).await
    }

    /// The client's chat, if one has been started: reading changes nothing. `NotFound` for a
    /// client the tenant has not (or not live).
    pub async fn find_for_client(&self, by: &Principal, client: ClientId) -> Result<Option<Chat>, ServiceError> {
        super::require(by, &[Permission::ClientRead, Permission::ChatRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        clients::get(&mut tx, client).await?;
        let chat = chats::of_client(&mut tx, client).await?;
        tx.commit().await?;
        Ok(chat)
    }

    /// The client's chat, started (audited and announced) if there was none: `true` with it
    /// when it was.
    pub async fn open_for_client(&self, by: &Principal, client: ClientId) -> Result<(Chat, bool), ServiceError> {
        super::require(by, &[Permission::ClientRead, Permission::ChatCreate])?;
        self.for_client(by, client).await
    }

    /// The client's chat, made (and announced) on first use.
    async fn for_client(&self, by: &Principal, client: ClientId) -> Result<(Chat, bool), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
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
        super::require(by, &[Permission::ChatRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let rows = chats::inbox(&mut tx, query).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// One chat as the inbox shows it, with its members.
    pub async fn chat(&self, by: &Principal, id: ChatId) -> Result<(InboxRow, Vec<Member>), ServiceError> {
        super::require(by, &[Permission::ChatRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let row = chats::inbox_row(&mut tx, id).await?;
        let members = chats::members(&mut tx, id).await?;
        tx.commit().await?;
        Ok((row, members))
    }

    /// The client's messages no one on the staff has read, over the whole inbox.
    pub async fn unread_total(&self, by: &Principal) -> Result<i64, ServiceError> {
        super::require(by, &[Permission::ChatRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let total = chats::unread_total(&mut tx).await?;
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
        super::require(by, &[Permission::ChatRead])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        chats::get(&mut tx, chat).await?;
        let page = messages::thread(&mut tx, chat, before, limit.clamp(1, 100)).await?;
        tx.commit().await?;
        Ok(page)
    }

    /// The ways a message can go to the chat's client through the `configured` transports:
    /// each contact of a kind one of them reaches, and the client's own phone for SMS.
    pub async fn routes(&self, by: &Principal, chat: ChatId) -> Result<Vec<Route>, ServiceError> {
        super::require(by, &[Permission::ChatCreate])?;
        self.routes_of(by.tenant_id, chat).await
    }

    async fn routes_of(&self, tenant: TenantId, chat: ChatId) -> Result<Vec<Route>, ServiceError> {
        let configured = self.providers.transports(tenant).await?;
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let chat = chats::get(&mut tx, chat).await?;
        let contacts = clients::contacts(&mut tx, chat.client_id).await?;
        let phone = clients::get(&mut tx, chat.client_id).await?.phone;
        tx.commit().await?;
        let mut routes = Vec::new();
        for transport in configured {
            let Some(kind) = transport.reaches() else { continue };
            for c in contacts.iter().filter(|c| c.kind == kind.as_str()) {
                routes.push(Route { transport, contact: Some(ContactId(c.id)), value: c.value.clone() });
            }
            if let (ContactType::Phone, Some(phone)) = (kind, &phone)
                && !routes.iter().any(|r| r.transport == transport && &r.value == phone)
            {
                routes.push(Route { transport, contact: None, value: phone.clone() });
            }
        }
        Ok(routes)
    }

    /// Writes a message from `by` — the one way the composer and the API send: a note is stored
    /// only; anything else goes on a transport the tenant has a channel for (the first that
    /// reaches the client when none is named), queued and put in the outbox in the same
    /// transaction. A blank text with a template is the template filled in for the client.
    /// Files are stored first and deleted again if the message cannot be written.
    pub async fn send(&self, by: &Principal, chat: ChatId, out: Outgoing<'_>) -> Result<Message, ServiceError> {
        super::require(by, &[Permission::ChatCreate])?;
        let (transport, contact) = self.route(by.tenant_id, chat, out.transport, out.contact).await?;
        let filled = match out.template {
            Some(template) if out.body.trim().is_empty() => Some(self.fill(by, chat, template).await?),
            _ => None,
        };
        let body = MessageBody::parse(filled.as_deref().unwrap_or(out.body), !out.files.is_empty())?;
        // A template's variable left as typed would reach the client as `{{client.first_name}}`.
        if !render_template(body.as_str(), |_| None).unfilled.is_empty() {
            return Err(DomainError::new("body", "unfilled_variables").into());
        }
        if out.files.len() > MAX_FILES {
            return Err(DomainError::new("files", "too_many_files").into());
        }
        let specs = out.files.iter().map(|f| FileSpec::check(&f.file_name, &f.bytes)).collect::<Result<Vec<_>, _>>()?;
        let mut stored: Vec<StoredFile> = Vec::new();
        for (spec, file) in specs.into_iter().zip(&out.files) {
            let key = FileStore::new_key(by.tenant_id);
            if let Err(e) = self.files.put(&key, file.bytes.clone()).await {
                self.files.delete_all(&keys(&stored)).await;
                return Err(e.into());
            }
            stored.push(StoredFile { spec, key, size: file.bytes.len() as i64 });
        }
        let written = self.write(by, chat, (transport, contact), &body, &stored).await;
        if written.is_err() {
            self.files.delete_all(&keys(&stored)).await;
        }
        let message = written?;
        self.events.publish(DomainEvent::MessageSent {
            tenant_id: by.tenant_id,
            chat_id: message.chat_id,
            message_id: message.id,
        });
        Ok(message)
    }

    /// The message, its files' rows, members, outbox row and audit entry, in one transaction.
    async fn write(
        &self,
        by: &Principal,
        chat: ChatId,
        (transport, chosen): (Transport, Option<ContactId>),
        body: &MessageBody,
        files: &[StoredFile],
    ) -> Result<Message, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let chat = chats::get(&mut tx, chat).await?;
        let contact = match transport.reaches() {
            None => None,
            Some(kind) => Some(destination(&mut tx, by, chat.client_id, kind, chosen).await?),
        };
        let direction = transport.direction_out();
        let sender = Sender::User { id: by.user_id, name: by.name.clone() };
        let mut message = messages::insert_message(
            &mut tx,
            NewMessage {
                chat: chat.id,
                direction,
                sender: &sender,
                sender_name: &by.name,
                body: body.as_str(),
                transport,
                contact,
                provider: None,
            },
        )
        .await?;
        for file in files {
            let attachment = NewAttachment {
                file_name: &file.spec.file_name,
                content_type: file.spec.content_type,
                size_bytes: file.size,
                storage_key: &file.key,
            };
            message.attachments.push(messages::insert_attachment(&mut tx, message.id, &attachment).await?);
        }
        chats::join(&mut tx, chat.id, Joiner::User(by.user_id)).await?;
        if let Some(contact) = contact {
            chats::join(&mut tx, chat.id, Joiner::Contact(contact, transport)).await?;
        }
        if direction == Direction::Outbound {
            outbox::enqueue(&mut tx, message.id).await?;
        }
        let summary = format!("{} message {}", transport.as_str(), message.id);
        let entry =
            audit::Entry { action: "message_sent", entity: "chat", entity_id: &chat.id.to_string(), summary: &summary };
        audit::record(&mut tx, &by.actor(), entry).await?;
        tx.commit().await?;
        Ok(message)
    }

    /// How a message goes: the transport named (which must have a channel; a note always may),
    /// or the first way that reaches the client (through `contact`, if named).
    async fn route(
        &self,
        tenant: TenantId,
        chat: ChatId,
        transport: Option<Transport>,
        contact: Option<ContactId>,
    ) -> Result<(Transport, Option<ContactId>), ServiceError> {
        if let Some(transport) = transport {
            // Another tenant's chat is not found, whatever else is wrong with the message.
            let mut tx = TenantTx::begin(&self.pool, tenant).await?;
            chats::get(&mut tx, chat).await?;
            tx.commit().await?;
            self.providers.require(tenant, transport, "transport").await?;
            return Ok((transport, contact));
        }
        let routes = self.routes_of(tenant, chat).await?;
        routes
            .iter()
            .find(|r| contact.is_none() || r.contact == contact)
            .map(|r| (r.transport, contact))
            .ok_or_else(|| DomainError::new("transport", "required").into())
    }

    /// A template's text filled in for the chat's client.
    async fn fill(&self, by: &Principal, chat: ChatId, template: i64) -> Result<String, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let client = chats::get(&mut tx, chat).await?.client_id;
        tx.commit().await?;
        match self.message_templates.fill(by, client, template).await {
            Ok(filled) => Ok(filled.rendered.text),
            Err(ServiceError::NotFound) => Err(DomainError::new("template_id", "not_found").into()),
            Err(e) => Err(e),
        }
    }

    /// Marks the client's messages read up to `up_to` (what the reader was shown), or all.
    pub async fn mark_read(&self, by: &Principal, chat: ChatId, up_to: Option<MessageId>) -> Result<u64, ServiceError> {
        super::require(by, &[Permission::ChatUpdate])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        chats::get(&mut tx, chat).await?;
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
        super::require(by, &[Permission::ChatUpdate])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        chats::get(&mut tx, chat).await?;
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
        super::require(by, &[Permission::ChatUpdate])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        chats::get(&mut tx, chat).await?;
        let message = messages::message_for_update(&mut tx, id).await?;
        if message.chat_id != chat {
            return Err(ServiceError::NotFound);
        }
        if !message.status.is_some_and(DeliveryStatus::may_retry) {
            return Err(ServiceError::Refused { code: "retry_not_failed" });
        }
        messages::requeue(&mut tx, id).await?;
        outbox::enqueue(&mut tx, id).await?;
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
        super::require(by, &[Permission::ChatRead])?;
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

    /// Applies a delivery report (from a provider's callback or the delivery worker). A report
    /// that would move the message back, or repeats its state, changes nothing: `false`.
    pub async fn report(
        &self,
        tenant: TenantId,
        message: MessageId,
        reported: DeliveryStatus,
        provider_message_id: Option<&str>,
        error: Option<(&str, &str)>,
    ) -> Result<bool, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let changed = report_in(&mut tx, message, reported, provider_message_id, error).await?;
        tx.commit().await?;
        if let Some((chat_id, status)) = changed {
            self.events.publish(DomainEvent::MessageStatusChanged {
                tenant_id: tenant,
                chat_id,
                message_id: message,
                status,
            });
        }
        Ok(changed.is_some())
    }

    /// Applies Twilio's status callback: `false` when it changes nothing (a state before
    /// sending, a sid that names no message of ours — or an earlier attempt of one since sent
    /// again — or a report behind the message).
    pub async fn report_from_twilio(&self, tenant: TenantId, report: TwilioReport<'_>) -> Result<bool, ServiceError> {
        // queued, accepted, scheduled, sending: nothing a message here does not show already.
        let Some(reported) = twilio::delivery_status(report.status) else { return Ok(false) };
        let Some(message) = self.by_provider_id(tenant, report.sid).await? else { return Ok(false) };
        let error = report.error.map(|(code, message)| {
            let reason = twilio::reason(code).map(str::to_owned).unwrap_or_else(|| match message {
                Some(m) => format!("Twilio error {code}: {m}"),
                None => format!("Twilio error {code}"),
            });
            (code, reason)
        });
        let error = error.as_ref().map(|(code, reason)| (*code, reason.as_str()));
        self.report(tenant, message, reported, None, error).await
    }

    /// The outbound message a provider's id names, if it is one of ours.
    pub async fn by_provider_id(&self, tenant: TenantId, provider_id: &str) -> Result<Option<MessageId>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let id = messages::by_provider_id(&mut tx, provider_id).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Live updates of `by`'s tenant (and of the others: the listener filters), for one who may
    /// read chats.
    pub fn live(&self, by: &Principal) -> Result<tokio::sync::broadcast::Receiver<DomainEvent>, ServiceError> {
        super::require(by, &[Permission::ChatRead])?;
        Ok(self.events.subscribe())
    }

    /// One message of the tenant, with its attachments: for the workers and for a live stream,
    /// whose reader's permission was checked when it opened (`live`).
    pub async fn message(&self, tenant: TenantId, id: MessageId) -> Result<Message, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let message = messages::message(&mut tx, id).await?;
        tx.commit().await?;
        Ok(message)
    }
}

/// The report applied inside `tx`: the chat and new status when the message moved.
pub(crate) async fn report_in(
    tx: &mut TenantTx,
    id: MessageId,
    reported: DeliveryStatus,
    provider_message_id: Option<&str>,
    error: Option<(&str, &str)>,
) -> Result<Option<(ChatId, DeliveryStatus)>, ServiceError> {
    let message = messages::message_for_update(tx, id).await?;
    let Some(now) = message.status.and_then(|s| s.after(reported)) else {
        return Ok(None);
    };
    messages::set_status(tx, id, now, provider_message_id, error).await?;
    Ok(Some((message.chat_id, now)))
}

/// The contact of `client` that a message of `kind` goes to: the one chosen, which must be the
/// client's and of that kind, or else the client's first of that kind. The client's own phone
/// number becomes a phone contact the first time an SMS goes to it (members are contacts).
async fn destination(
    tx: &mut TenantTx,
    by: &Principal,
    client: ClientId,
    kind: ContactType,
    chosen: Option<ContactId>,
) -> Result<ContactId, ServiceError> {
    let contacts = clients::contacts(tx, client).await?;
    let fits = |c: &&clients::Contact| c.kind == kind.as_str();
    let found = match chosen {
        Some(id) => contacts.iter().filter(fits).find(|c| c.id == id.0),
        None => contacts.iter().find(fits),
    };
    if let Some(c) = found {
        return Ok(ContactId(c.id));
    }
    let none = || ServiceError::from(DomainError::new("contact_id", "no_contact_for_transport"));
    let phone = clients::get(tx, client).await?.phone;
    let (Some(phone), None, ContactType::Phone) = (phone, chosen, kind) else { return Err(none()) };
    let value = ContactValue::parse(ContactType::Phone, &phone)?;
    let contact = clients::insert_contact(tx, client, &value).await?;
    let summary = format!("phone: {}", value.as_str());
    let entry =
        audit::Entry { action: "contact_added", entity: "client", entity_id: &client.to_string(), summary: &summary };
    audit::record(tx, &by.actor(), entry).await?;
    Ok(ContactId(contact.id))
}
