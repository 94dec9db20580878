//! Ways out of the CRM: the `Provider` trait the delivery worker sends through, and the Twilio
//! and Telegram clients that implement it. Provider clients only: nothing here reads the
//! database or calls a service (`services::providers` finds a tenant's provider).

pub mod telegram;
pub mod twilio;

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use crate::domain::TenantId;
use crate::domain::chat::{DeliveryStatus, MessageId, Transport};

/// One message for a provider to send.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub transport: Transport,
    /// Where it goes: an E.164 phone, or a Telegram chat id.
    pub to: String,
    pub body: String,
    pub files: Vec<OutboundFile>,
}

/// A file that goes with a message: its bytes for a provider that uploads them (Telegram),
/// a signed link for one that fetches them (Twilio).
#[derive(Debug, Clone)]
pub struct OutboundFile {
    pub name: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
    pub url: String,
}

/// What a provider said to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Not sent, and worth trying again (rate limit, server busy, no connection), after
    /// `after` if it said.
    Retry { cause: RetryCause, reason: String, after: Option<Duration> },
    /// Refused for good (an invalid number, a blocked bot): its code and a readable reason.
    Rejected { code: String, reason: String },
    /// The request may have reached the provider, but its answer did not reach us (a time-out,
    /// a connection lost mid-answer, an answer without the message's id): it may have been
    /// sent. Never sent again before the provider is asked (`Provider::lookup`).
    Unknown { reason: String },
}

pub use crate::domain::channel::{Cause, Trouble};
pub use crate::domain::chat::RetryCause;

/// A message the provider has, as its message list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub provider_id: String,
    /// Where it stands at the provider, as one of ours (`Sent` for anything short of delivery).
    pub status: DeliveryStatus,
    /// The provider's error code and reason, for a message it failed.
    pub error: Option<(String, String)>,
    pub created_at: DateTime<Utc>,
}

/// What a provider could say about a message whose sending answer was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Messages to the same address with the same text, created since the attempt began.
    Found(Vec<Sighting>),
    /// The provider could not be asked just now (it did not answer, or refused).
    Failed(String),
    /// The provider keeps no list to ask (Telegram).
    Unsupported,
}

/// A way out of the CRM: Twilio, Telegram… Implementations map their errors onto `SendError`.
pub trait Provider: Send + Sync {
    /// Sends, and returns the provider's id for the message.
    fn send<'a>(&'a self, message: &'a Outbound) -> BoxFuture<'a, Result<String, SendError>>;

    /// The messages the provider has that may be `message`, sent at `since` or later: what
    /// the delivery worker asks before sending again a message whose answer was lost.
    fn lookup<'a>(&'a self, message: &'a Outbound, since: DateTime<Utc>) -> BoxFuture<'a, Lookup> {
        let _ = (message, since);
        Box::pin(async { Lookup::Unsupported })
    }
}
