//! The inbox: chats by latest activity, each with its newest message and unread count.

use chrono::{DateTime, Utc};

use super::{ChatId, DeliveryStatus, Direction, MessageId, Transport};
use crate::domain::{ClientId, Phone};

/// A chat as the inbox lists it: whose it is, its newest message and what is unread.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub id: ChatId,
    pub client_id: ClientId,
    pub client_name: String,
    pub client_phone: Option<Phone>,
    pub unread: i32,
    pub last: Option<LastMessage>,
}

#[derive(Debug, Clone)]
pub struct LastMessage {
    pub id: MessageId,
    pub body: String,
    pub direction: Direction,
    pub transport: Transport,
    pub status: Option<DeliveryStatus>,
    pub at: DateTime<Utc>,
    pub attachments: i64,
}

/// What the inbox asks for. `q` matches the client's name, phone, email or PIN (every word),
/// or the text of any message in the chat (full-text).
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    pub q: Option<String>,
    pub unread_only: bool,
    pub limit: i64,
    pub offset: i64,
}
