//! The inbox: chats by latest activity, each with its newest message and unread count.

use chrono::{DateTime, Utc};

use super::{AssigneeFilter, ChatId, ChatStatus, DeliveryStatus, Direction, MessageId, Transport};
use crate::domain::tag::{Tag, TagId};
use crate::domain::{ClientId, Phone, UserId};

/// A chat as the inbox lists it: whose it is, its newest message and what is unread.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub id: ChatId,
    pub client_id: ClientId,
    pub client_name: String,
    pub client_phone: Option<Phone>,
    pub unread: i32,
    pub last: Option<LastMessage>,
    pub assignee: Option<Assignee>,
    pub status: ChatStatus,
    /// When a snoozed chat opens again.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// The tags the chat carries, by name.
    pub tags: Vec<Tag>,
}

/// The member of staff a chat is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub id: UserId,
    pub name: String,
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

/// How many chats each view holds (of one status, or any), counted up to `VIEW_COUNT_CAP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ViewCounts {
    pub mine: i64,
    pub unassigned: i64,
    pub all: i64,
}

/// Counts of a view stop past this ("999+"): the tabs need a size, not a census.
pub const VIEW_COUNT_CAP: i64 = 1000;

/// What the inbox asks for. `q` matches the client's name, phone, email or PIN (every word),
/// or the text of any message in the chat (full-text).
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    pub q: Option<String>,
    pub unread_only: bool,
    pub assignee: AssigneeFilter,
    /// Any status when absent.
    pub status: Option<ChatStatus>,
    /// Only chats carrying this tag.
    pub tag_id: Option<TagId>,
    pub limit: i64,
    pub offset: i64,
}
