//! A chat as it is read: the chat itself, its messages with their files, and its members.

use chrono::{DateTime, Utc};

use super::{ChatId, DeliveryStatus, Direction, MessageId, Transport};
use crate::domain::{ClientId, ContactId, UserId};

/// A client's one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub id: ChatId,
    pub client_id: ClientId,
    pub created_at: DateTime<Utc>,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub direction: Direction,
    pub sender_user_id: Option<UserId>,
    pub sender_contact_id: Option<ContactId>,
    pub sender_name: String,
    pub body: String,
    pub transport: Transport,
    pub contact_id: Option<ContactId>,
    pub status: Option<DeliveryStatus>,
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    /// When a scheduled message leaves (it stays set once it has).
    pub send_at: Option<DateTime<Utc>>,
    /// A queued message whose sending failed and will be tried again; filled by the reads that
    /// show messages.
    pub retrying: Option<Retrying>,
    /// Filled by the reads that show messages (`thread`, `message`); empty after an insert.
    pub attachments: Vec<Attachment>,
}

/// Where the sending of a queued message stands after a failed pass: how many passes were made
/// (of `MAX_DELIVERY_ATTEMPTS`), what went wrong last (`cause` for people, `reason` as the
/// provider or the network said it), and when the next one is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrying {
    pub attempts: i32,
    pub cause: Option<RetryCause>,
    pub reason: Option<String>,
    pub next_at: DateTime<Utc>,
}

/// Why a pass at sending a message did not send it and another will come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCause {
    /// The provider did not answer: no connection, or no answer before the request left.
    NoAnswer,
    /// The provider is busy or limits how fast we send, and asked us to wait.
    Busy,
    /// The request may have reached the provider but its answer was lost: the provider is
    /// asked before the message is sent again.
    AnswerLost,
    /// A failure of this server's own (its database, its file store).
    Internal,
}

impl RetryCause {
    pub const ALL: [RetryCause; 4] =
        [RetryCause::NoAnswer, RetryCause::Busy, RetryCause::AnswerLost, RetryCause::Internal];

    pub fn code(self) -> &'static str {
        match self {
            RetryCause::NoAnswer => "no_answer",
            RetryCause::Busy => "busy",
            RetryCause::AnswerLost => "answer_lost",
            RetryCause::Internal => "internal",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// How many passes the delivery worker makes at a message before it ends `failed`: the last
/// comes about two and a half minutes after the first (5 s doubling), so a person hears of a
/// provider that does not answer within minutes, with a Retry button.
pub const MAX_DELIVERY_ATTEMPTS: i32 = 6;

/// A file that came or goes with a message; its bytes are in the object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub message_id: MessageId,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
}

impl Attachment {
    /// Shown in the page (a safe image), or else only downloaded.
    pub fn is_image(&self) -> bool {
        super::super::attachment::shows_inline(&self.content_type)
    }
}

/// Who takes part in a chat: staff who wrote in it, and the client's contacts it travelled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    /// The member of staff, for a user member.
    pub user_id: Option<UserId>,
    /// The client's contact, for a client member.
    pub contact_id: Option<ContactId>,
    /// What a client member's messages travel on.
    pub transport: Option<Transport>,
    pub name: String,
}

impl Member {
    /// `user` or `client`.
    pub fn kind(&self) -> &'static str {
        if self.user_id.is_some() { "user" } else { "client" }
    }
}
