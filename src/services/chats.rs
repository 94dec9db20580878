//! Chats: a client's one conversation, writing in it (outbound messages go to the outbox in
//! the same transaction), and delivery reports that only move a message forward.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::chat::{ChatId, DeliveryStatus, Direction, MessageBody, MessageId, Sender, Transport};
use crate::domain::{ClientId, ContactId, ContactType, ContactValue, DomainError, DomainEvent, Principal, TenantId};
use crate::events::EventBus;
use crate::repos::chats::{self, Chat, Message, NewMessage};
use crate::repos::{audit, clients};

use super::ServiceError;

#[derive(Clone)]
pub struct ChatService {
    pool: PgPool,
    events: EventBus,
}

/// What staff write: the text, and how it goes (a note, or a transport to one of the
/// client's contacts).
pub struct Outgoing<'a> {
    pub body: &'a str,
    pub transport: Transport,
    /// The contact to send to; the client's first contact the transport reaches when absent.
    pub contact: Option<ContactId>,
}

impl ChatService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// The client's chat, made (and announced) on first use.
    pub async fn for_client(&self, by: &Principal, client: ClientId) -> Result<Chat, ServiceError> {
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
        Ok(chat)
    }

    /// Writes a message from `by`: a note is stored only; anything else is queued for its
    /// transport and put in the outbox, in the same transaction.
    pub async fn send(&self, by: &Principal, chat: ChatId, out: Outgoing<'_>) -> Result<Message, ServiceError> {
        let body = MessageBody::parse(out.body, false)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let chat = chats::get(&mut tx, chat).await?;
        let contact = match out.transport.reaches() {
            None => None,
            Some(kind) => Some(destination(&mut tx, by, chat.client_id, kind, out.contact).await?),
        };
        let direction = out.transport.direction_out();
        let sender = Sender::User { id: by.user_id, name: by.name.clone() };
        let message = chats::insert_message(
            &mut tx,
            NewMessage {
                chat: chat.id,
                direction,
                sender: &sender,
                sender_name: &by.name,
                body: body.as_str(),
                transport: out.transport,
                contact,
            },
        )
        .await?;
        if direction == Direction::Outbound {
            chats::enqueue(&mut tx, message.id).await?;
        }
        let summary = format!("{} message {}", out.transport.as_str(), message.id);
        let entry =
            audit::Entry { action: "message_sent", entity: "chat", entity_id: &chat.id.to_string(), summary: &summary };
        audit::record(&mut tx, &by.actor(), entry).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::MessageSent {
            tenant_id: by.tenant_id,
            chat_id: chat.id,
            message_id: message.id,
        });
        Ok(message)
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

    pub async fn message(&self, tenant: TenantId, id: MessageId) -> Result<Message, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let message = chats::message(&mut tx, id).await?;
        tx.commit().await?;
        Ok(message)
    }
}

/// The report applied inside `tx`: the chat and new status when the message moved.
pub(super) async fn report_in(
    tx: &mut TenantTx,
    id: MessageId,
    reported: DeliveryStatus,
    provider_message_id: Option<&str>,
    error: Option<(&str, &str)>,
) -> Result<Option<(ChatId, DeliveryStatus)>, ServiceError> {
    let message = chats::message_for_update(tx, id).await?;
    let Some(now) = message.status.and_then(|s| s.after(reported)) else {
        return Ok(None);
    };
    chats::set_status(tx, id, now, provider_message_id, error).await?;
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
