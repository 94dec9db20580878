//! InboundService: a message a channel's webhook brought in, stored whole in one transaction —
//! the client found by who wrote (or made: client, contact, chat, member), the message, the
//! files still to fetch — or dropped as a duplicate. Media is fetched afterwards
//! (`services::media`).

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::activity::{ActivityActor, ActivityKind, NewActivity, excerpt};
use crate::domain::channel::ChannelId;
use crate::domain::chat::{Direction, MessageBody, MessageId, Sender, Transport};
use crate::domain::record::RecordRef;
use crate::domain::{ClientFields, ClientId, ContactId, ContactType, ContactValue, DomainEvent, Phone, TenantId};
use crate::events::EventBus;
use crate::repos::chats::{self, Joiner};
use crate::repos::media_downloads::{self, NewDownload};
use crate::repos::messages::{self, NewMessage};
use crate::repos::{audit, clients};

use super::ServiceError;

/// Who wrote, as the provider names them.
#[derive(Debug, Clone)]
pub enum Origin {
    /// An SMS or WhatsApp number; `profile_name` is WhatsApp's name for its owner.
    Phone { number: Phone, profile_name: Option<String> },
    /// A Telegram user in a private chat with the bot.
    Telegram { chat_id: i64, username: Option<String>, first_name: String, last_name: Option<String> },
}

impl Origin {
    /// Who this is, as one string: the number, or the Telegram chat.
    fn key(&self) -> String {
        match self {
            Origin::Phone { number, .. } => number.as_str().to_owned(),
            Origin::Telegram { chat_id, .. } => format!("telegram:{chat_id}"),
        }
    }
}

/// A file of the message, to fetch later.
#[derive(Debug, Clone)]
pub struct Media {
    pub source: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
}

/// A message as a webhook brought it.
#[derive(Debug, Clone)]
pub struct Arrived {
    pub channel: ChannelId,
    pub transport: Transport,
    /// The provider's id for it (Twilio's MessageSid; Telegram's update id): a second delivery
    /// of the same id is dropped.
    pub provider_id: String,
    pub from: Origin,
    pub body: String,
    pub media: Vec<Media>,
}

impl Arrived {
    /// The same, without NUL characters: a client may send one, and no text column can hold
    /// it. What they wrote is kept, less the character.
    fn without_nul(self) -> Self {
        let clean = |s: String| if s.contains('\0') { s.replace('\0', "") } else { s };
        let clean_opt = |s: Option<String>| s.map(clean);
        Self {
            provider_id: clean(self.provider_id),
            from: match self.from {
                Origin::Phone { number, profile_name } => {
                    Origin::Phone { number, profile_name: clean_opt(profile_name) }
                }
                Origin::Telegram { chat_id, username, first_name, last_name } => Origin::Telegram {
                    chat_id,
                    username: clean_opt(username),
                    first_name: clean(first_name),
                    last_name: clean_opt(last_name),
                },
            },
            body: clean(self.body),
            media: self
                .media
                .into_iter()
                .map(|m| Media {
                    source: clean(m.source),
                    file_name: clean_opt(m.file_name),
                    content_type: clean_opt(m.content_type),
                })
                .collect(),
            ..self
        }
    }
}

/// What became of a message that arrived.
#[derive(Debug)]
pub enum Received {
    Stored(MessageId),
    Duplicate,
}

#[derive(Clone)]
pub struct InboundService {
    pool: PgPool,
    events: EventBus,
}

impl InboundService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// Stores what arrived for `tenant`, whole or not at all.
    pub async fn receive(&self, tenant: TenantId, arrived: Arrived) -> Result<Received, ServiceError> {
        let arrived = arrived.without_nul();
        // A text is cut at the limit rather than lost; a message of files alone has none.
        let text: String = arrived.body.trim().chars().take(MessageBody::MAX_CHARS).collect();
        let body = MessageBody::parse(&text, !arrived.media.is_empty())?;
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        // Two messages from one stranger at once must not both make a client (the second would
        // fail on the phone's uniqueness and be lost): one writer at a time per sender.
        tx.lock(&format!("inbound:{}", arrived.from.key())).await?;
        if messages::from_provider(&mut tx, arrived.channel, &arrived.provider_id).await? {
            return Ok(Received::Duplicate);
        }
        let writer = find_or_make_client(&mut tx, &arrived).await?;
        let telegram_chat = match &arrived.from {
            Origin::Telegram { chat_id, username, .. } => {
                Some(serde_json::json!({"chat_id": chat_id.to_string(), "username": username}))
            }
            Origin::Phone { .. } => None,
        };
        let written = Written {
            body: &body,
            transport: arrived.transport,
            provider: Some((arrived.channel, &arrived.provider_id)),
            telegram_chat,
            media: &arrived.media,
        };
        match self.write(tx, tenant, &writer, written).await {
            Ok(id) => Ok(Received::Stored(id)),
            // The same message, stored by a webhook delivered twice at once.
            Err(ServiceError::Conflict { field: "provider_message_id" }) => Ok(Received::Duplicate),
            Err(e) => Err(e),
        }
    }

    /// Stores what a client wrote from a contact already known (imports, demos, tests): the
    /// same message, chat and member as a webhook's, without a provider's id.
    pub async fn receive_from(&self, tenant: TenantId, incoming: Incoming<'_>) -> Result<MessageId, ServiceError> {
        let body = MessageBody::parse(incoming.body, false)?;
        let tx = TenantTx::begin(&self.pool, tenant).await?;
        let writer = Writer {
            client: incoming.client,
            contact: incoming.contact,
            name: incoming.sender_name.to_owned(),
            made: false,
        };
        let written =
            Written { body: &body, transport: incoming.transport, provider: None, telegram_chat: None, media: &[] };
        self.write(tx, tenant, &writer, written).await
    }

    /// Writes the message in the writer's chat (made on first use) with its member and files
    /// to fetch, commits, and announces it.
    async fn write(
        &self,
        mut tx: TenantTx,
        tenant: TenantId,
        writer: &Writer,
        w: Written<'_>,
    ) -> Result<MessageId, ServiceError> {
        let (chat, chat_made) = chats::for_client(&mut tx, writer.client).await?;
        let sender = Sender::Client { client_id: writer.client, contact_id: writer.contact };
        let message = messages::insert_message(
            &mut tx,
            NewMessage {
                chat: chat.id,
                direction: Direction::Inbound,
                sender: &sender,
                sender_name: &writer.name,
                body: w.body.as_str(),
                transport: w.transport,
                contact: Some(writer.contact),
                provider: w.provider,
                send_at: None,
            },
        )
        .await?;
        let entry = NewActivity::new(
            RecordRef::Client(writer.client),
            ActivityKind::MessageIn,
            ActivityActor::Client { name: writer.name.clone() },
            excerpt(w.body.as_str()),
        )
        .with(serde_json::json!({"chat_id": chat.id.0, "message_id": message.id.0, "transport": w.transport.as_str()}));
        crate::repos::activities::record(&mut tx, &entry).await?;
        chats::join(&mut tx, chat.id, Joiner::Contact(writer.contact, w.transport)).await?;
        // The client wrote: a resolved or snoozed conversation needs the team again.
        let reopened = chats::reopen(&mut tx, chat.id).await?;
        let assigned = crate::services::chats::assign_in_turn(&mut tx, chat.id).await?;
        let assignee = match assigned {
            Some(user) => Some(user),
            None => chats::assignee(&mut tx, chat.id).await?,
        };
        if let Some(meta) = w.telegram_chat {
            chats::remember_telegram_chat(&mut tx, chat.id, writer.contact, meta).await?;
        }
        if let Some((channel, _)) = w.provider {
            for m in w.media {
                let download = NewDownload {
                    source: &m.source,
                    file_name: m.file_name.as_deref(),
                    content_type: m.content_type.as_deref(),
                };
                media_downloads::insert(&mut tx, message.id, channel, &download).await?;
            }
        }
        tx.commit().await?;

        if writer.made {
            self.events.publish(DomainEvent::ClientCreated { tenant_id: tenant, client_id: writer.client });
        }
        if chat_made {
            self.events.publish(DomainEvent::ChatCreated {
                tenant_id: tenant,
                chat_id: chat.id,
                client_id: writer.client,
            });
        }
        if reopened || assigned.is_some() {
            self.events.publish(DomainEvent::ChatUpdated { tenant_id: tenant, chat_id: chat.id });
        }
        self.events.publish(DomainEvent::MessageReceived {
            tenant_id: tenant,
            chat_id: chat.id,
            message_id: message.id,
            assignee,
        });
        Ok(message.id)
    }
}

/// What a client wrote on a channel, once the channel has found (or made) the client's contact.
pub struct Incoming<'a> {
    pub client: ClientId,
    pub contact: ContactId,
    pub transport: Transport,
    pub sender_name: &'a str,
    pub body: &'a str,
}

/// A message as it is written, whichever way it came.
struct Written<'a> {
    body: &'a MessageBody,
    transport: Transport,
    /// The channel it came in on and the provider's id for it.
    provider: Option<(ChannelId, &'a str)>,
    /// Where a Telegram member is written back to.
    telegram_chat: Option<serde_json::Value>,
    media: &'a [Media],
}

/// The client who wrote and the contact they wrote from.
struct Writer {
    client: ClientId,
    contact: ContactId,
    name: String,
    /// The client was made for this message.
    made: bool,
}

/// Finds who wrote by their number or Telegram chat; a stranger becomes a client (named as the
/// provider names them, else by their number) with the contact they wrote from.
async fn find_or_make_client(tx: &mut TenantTx, arrived: &Arrived) -> Result<Writer, ServiceError> {
    let kind = arrived.transport.reaches().ok_or(ServiceError::Refused { code: "note_cannot_arrive" })?;
    let (found, value, fields) = match &arrived.from {
        Origin::Phone { number, profile_name } => {
            let found = clients::find_by_number(tx, number.as_str(), kind).await?;
            // The number goes in the client's phone field too, unless an archived client keeps it.
            let phone = match clients::holder_of(tx, "phone", number.as_str()).await? {
                None => Some(number.clone()),
                Some(_) => None,
            };
            let name = profile_name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            let first_name = name.map(|n| n.chars().take(100).collect()).unwrap_or_else(|| number.as_str().to_owned());
            let fields = stranger(first_name, None, phone);
            (found, ContactValue::parse(kind, number.as_str())?, fields)
        }
        Origin::Telegram { chat_id, username, first_name, last_name } => {
            let found = clients::find_by_telegram(tx, *chat_id, username.as_deref())
                .await?
                .map(|(client, contact)| (client, Some(contact)));
            let value = username
                .as_deref()
                .and_then(|u| ContactValue::parse(ContactType::Telegram, u).ok())
                .map_or_else(|| ContactValue::parse(ContactType::Telegram, &chat_id.to_string()), Ok)?;
            let first = first_name.trim();
            let first = if first.is_empty() { value.as_str().to_owned() } else { first.chars().take(100).collect() };
            let last =
                last_name.as_deref().map(str::trim).filter(|l| !l.is_empty()).map(|l| l.chars().take(100).collect());
            let fields = stranger(first, last, None);
            (found, value, fields)
        }
    };
    match found {
        Some((client, Some(contact))) => {
            let name = clients::get(tx, client).await?.full_name();
            Ok(Writer { client, contact, name, made: false })
        }
        Some((client, None)) => {
            // A known client writing on a new channel: the number becomes a contact of that kind.
            let contact = clients::insert_contact(tx, client, &value).await?.id;
            let name = clients::get(tx, client).await?.full_name();
            Ok(Writer { client, contact, name, made: false })
        }
        None => {
            let client = clients::insert(tx, &fields).await?;
            let contact = clients::insert_contact(tx, client, &value).await?.id;
            let entry = audit::Entry {
                action: "client_created",
                entity: "client",
                entity_id: &client.0.to_string(),
                summary: &fields.first_name,
            };
            audit::record(tx, &crate::domain::Actor::System, entry).await?;
            Ok(Writer { client, contact, name: clients::get(tx, client).await?.full_name(), made: true })
        }
    }
}

/// A client known only by what the provider said of them.
fn stranger(first_name: String, last_name: Option<String>, phone: Option<Phone>) -> ClientFields {
    ClientFields {
        first_name,
        last_name,
        middle_name: None,
        phone,
        email: None,
        address: None,
        date_of_birth: None,
        gender: None,
        pin: None,
        passport: None,
        comments: None,
        company_id: None,
        job_title: None,
        owner_id: None,
    }
}
