//! Writing in a chat: how a message goes (a note, or a transport the tenant has a channel for,
//! to the contact it reaches), its text (or a template filled in), its files stored first, and
//! the message with its outbox row in one transaction.

use bytes::Bytes;

use crate::db::TenantTx;
use crate::domain::activity::{ActivityKind, NewActivity, excerpt};
use crate::domain::attachment::{FileSpec, MAX_FILES};
use crate::domain::chat::{Chat, Message};
use crate::domain::chat::{
    ChatId, DeliveryStatus, Direction, MessageBody, MessageId, Sender, Transport, render_template, schedule,
};
use crate::domain::message_template::MessageTemplate;
use crate::domain::record::RecordRef;
use crate::domain::{
    ClientId, Contact, ContactId, ContactType, ContactValue, DomainError, DomainEvent, Permission, Principal, TenantId,
};
use crate::repos::chats::{self, Joiner};
use crate::repos::messages::{self, NewAttachment, NewMessage};
use crate::repos::{audit, clients, outbox};
use crate::services::{FileStore, ServiceError};

use super::ChatService;

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
    /// When to send it, if not now: it waits as `scheduled` (not for a note).
    pub send_at: Option<chrono::DateTime<chrono::Utc>>,
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
    /// The ways a message can go to the chat's client through the `configured` transports:
    /// each contact of a kind one of them reaches, and the client's own phone for SMS.
    pub async fn routes(&self, by: &Principal, chat: ChatId) -> Result<Vec<Route>, ServiceError> {
        self.must_reach(by, &[Permission::ChatCreate], chat).await?;
        self.routes_of(by.tenant_id, chat).await
    }

    async fn routes_of(&self, tenant: TenantId, chat: ChatId) -> Result<Vec<Route>, ServiceError> {
        let configured = self.providers.transports(tenant).await?;
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let client = chats::get(&mut tx, chat).await?.client_id;
        let phone = clients::get(&mut tx, client).await?.fields.phone;
        let routes = routes_to(&mut tx, &configured, client, phone.as_ref().map(|p| p.as_str())).await?;
        tx.commit().await?;
        Ok(routes)
    }

    /// Writes a message from `by` — the one way the composer and the API send: a note is stored
    /// only; anything else goes on a transport the tenant has a channel for (the first that
    /// reaches the client when none is named), queued and put in the outbox in the same
    /// transaction. A blank text with a template is the template filled in for the client.
    /// Files are stored first and deleted again if the message cannot be written.
    pub async fn send(&self, by: &Principal, chat: ChatId, out: Outgoing<'_>) -> Result<Message, ServiceError> {
        self.must_reach(by, &[Permission::ChatCreate], chat).await?;
        let (transport, contact) = self.route(by.tenant_id, chat, out.transport, out.contact).await?;
        let send_at = schedule(out.send_at, chrono::Utc::now(), transport)?;
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
        let written = self.write(by, chat, (transport, contact), (&body, send_at), &stored).await;
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

    /// A template filled in for `client` and queued to them inside a bulk job's `tx`, as
    /// `by` writes it: on `transport` (or the first of the `configured` ones that reaches the
    /// client), at that transport's next paced slot (`Transport::pace`): it waits as
    /// `scheduled` when the slot is ahead. A client it cannot go to is `Err(code)`:
    /// `no_contact`, `unfilled_variables` (a variable the client has no value for), or what
    /// the filled text breaks (`body_too_long`…). The caller publishes `MessageSent` after
    /// commit.
    pub async fn send_template_in(
        &self,
        tx: &mut TenantTx,
        by: &Principal,
        client: ClientId,
        template: &MessageTemplate,
        (transport, configured): (Option<Transport>, &[Transport]),
    ) -> Result<Result<Message, &'static str>, ServiceError> {
        let record = clients::get(tx, client).await?;
        let filled = super::super::message_templates::fill_in(template.clone(), by, &record);
        if !filled.rendered.unfilled.is_empty() {
            return Ok(Err("unfilled_variables"));
        }
        let body = match MessageBody::parse(&filled.rendered.text, false) {
            Ok(body) => body,
            Err(e) => return Ok(Err(e.code)),
        };
        let phone = record.fields.phone.as_ref().map(|p| p.as_str());
        let routes = routes_to(tx, configured, client, phone).await?;
        let Some(route) = routes.into_iter().find(|r| transport.is_none_or(|t| r.transport == t)) else {
            return Ok(Err("no_contact"));
        };
        let (chat, _) = chats::for_client(tx, client).await?;
        let send_at = match route.transport.pace() {
            Some(gap) => {
                let slot = outbox::take_send_slot(tx, route.transport, gap).await?;
                // A slot within the next moment goes now, as `queued`.
                Some(slot).filter(|at| *at > chrono::Utc::now() + chrono::Duration::milliseconds(500))
            }
            None => None,
        };
        let message = write_in(tx, by, &chat, (route.transport, route.contact), (&body, send_at), &[]).await?;
        Ok(Ok(message))
    }

    /// Calls off a scheduled message before it leaves: it stays in the thread as `cancelled`.
    /// `Refused` (409) once it has left or is leaving.
    pub async fn cancel(&self, by: &Principal, chat: ChatId, id: MessageId) -> Result<Message, ServiceError> {
        let (mut tx, scope) = self.begin(by, &[Permission::ChatUpdate]).await?;
        super::reach(&mut tx, chat, scope).await?;
        let message = messages::message(&mut tx, id).await?;
        if message.chat_id != chat {
            return Err(ServiceError::NotFound);
        }
        if !messages::cancel_scheduled(&mut tx, chat, id).await? {
            return Err(ServiceError::Refused { code: "message_left" });
        }
        let summary = format!("{} message {}", message.transport.as_str(), id);
        let entry = audit::Entry {
            action: "message_cancelled",
            entity: "chat",
            entity_id: &chat.to_string(),
            summary: &summary,
        };
        audit::record(&mut tx, &by.actor(), entry).await?;
        let cancelled = messages::message(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::MessageStatusChanged {
            tenant_id: by.tenant_id,
            chat_id: chat,
            message_id: id,
            status: DeliveryStatus::Cancelled,
        });
        Ok(cancelled)
    }

    /// The message, its files' rows, members, outbox row and audit entry, in one transaction.
    async fn write(
        &self,
        by: &Principal,
        chat: ChatId,
        route: (Transport, Option<ContactId>),
        (body, send_at): (&MessageBody, Option<chrono::DateTime<chrono::Utc>>),
        files: &[StoredFile],
    ) -> Result<Message, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let chat = chats::get(&mut tx, chat).await?;
        let message = write_in(&mut tx, by, &chat, route, (body, send_at), files).await?;
        let transport = message.transport;
        let summary = match send_at {
            Some(at) => format!("{} message {} scheduled for {}", transport.as_str(), message.id, at.to_rfc3339()),
            None => format!("{} message {}", transport.as_str(), message.id),
        };
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
    let fits = |c: &&Contact| c.kind() == kind;
    let found = match chosen {
        Some(id) => contacts.iter().filter(fits).find(|c| c.id == id),
        None => contacts.iter().find(fits),
    };
    if let Some(c) = found {
        return Ok(c.id);
    }
    let none = || ServiceError::from(DomainError::new("contact_id", "no_contact_for_transport"));
    let phone = clients::get(tx, client).await?.fields.phone;
    let (Some(phone), None, ContactType::Phone) = (phone, chosen, kind) else { return Err(none()) };
    let value = ContactValue::parse(ContactType::Phone, phone.as_str())?;
    let contact = clients::insert_contact(tx, client, &value).await?;
    let summary = value.as_str();
    let entry = audit::Entry { action: "contact_added", entity: "client", entity_id: &client.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await?;
    Ok(contact.id)
}

/// The message, its files' rows, members, timeline entry and outbox row, in `tx`: what every
/// way of writing to a client shares (the caller audits).
async fn write_in(
    tx: &mut TenantTx,
    by: &Principal,
    chat: &Chat,
    (transport, chosen): (Transport, Option<ContactId>),
    (body, send_at): (&MessageBody, Option<chrono::DateTime<chrono::Utc>>),
    files: &[StoredFile],
) -> Result<Message, ServiceError> {
    let contact = match transport.reaches() {
        None => None,
        Some(kind) => Some(destination(tx, by, chat.client_id, kind, chosen).await?),
    };
    let direction = transport.direction_out();
    let sender = Sender::User { id: by.user_id, name: by.name.clone() };
    let mut message = messages::insert_message(
        tx,
        NewMessage {
            chat: chat.id,
            direction,
            sender: &sender,
            sender_name: &by.name,
            body: body.as_str(),
            transport,
            contact,
            provider: None,
            send_at,
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
        message.attachments.push(messages::insert_attachment(tx, message.id, &attachment).await?);
    }
    if direction == Direction::Outbound {
        // Internal notes stay in the chat; what the client was sent goes on their timeline.
        let entry = NewActivity::new(
            RecordRef::Client(chat.client_id),
            ActivityKind::MessageOut,
            by.actor(),
            excerpt(body.as_str()),
        )
        .with(serde_json::json!({"chat_id": chat.id.0, "message_id": message.id.0, "transport": transport.as_str()}));
        crate::repos::activities::record(tx, &entry).await?;
    }
    chats::join(tx, chat.id, Joiner::User(by.user_id)).await?;
    if let Some(contact) = contact {
        chats::join(tx, chat.id, Joiner::Contact(contact, transport)).await?;
    }
    if direction == Direction::Outbound {
        outbox::enqueue(tx, message.id, send_at).await?;
    }
    Ok(message)
}

/// The ways a message can reach `client` through the `configured` transports: each contact of
/// a kind one of them reaches, and the client's own `phone` for SMS.
async fn routes_to(
    tx: &mut TenantTx,
    configured: &[Transport],
    client: ClientId,
    phone: Option<&str>,
) -> Result<Vec<Route>, ServiceError> {
    let contacts = clients::contacts(tx, client).await?;
    let mut routes = Vec::new();
    for &transport in configured {
        let Some(kind) = transport.reaches() else { continue };
        for c in contacts.iter().filter(|c| c.kind() == kind) {
            routes.push(Route { transport, contact: Some(c.id), value: c.value.as_str().to_owned() });
        }
        if let (ContactType::Phone, Some(phone)) = (kind, phone)
            && !routes.iter().any(|r| r.transport == transport && r.value == phone)
        {
            routes.push(Route { transport, contact: None, value: phone.to_owned() });
        }
    }
    Ok(routes)
}
