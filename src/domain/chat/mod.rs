//! Chats: one conversation per client, the messages in it, how each travels and where its
//! delivery stands. Pure rules; the chats issue builds storage and pages on them.

mod inbox;
mod thread;
mod work;

use std::fmt;
use std::str::FromStr;

pub use inbox::{Assignee, InboxQuery, InboxRow, LastMessage, VIEW_COUNT_CAP, ViewCounts};
pub use thread::{Attachment, Chat, MAX_DELIVERY_ATTEMPTS, Member, Message, RetryCause, Retrying};
pub use work::{AssigneeFilter, ChatChange, ChatStatus, StatusChange};

use super::{ClientId, ContactId, ContactType, DomainError, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ChatId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub i64);

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which way a message went. A note is staff-only and never leaves the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Inbound,
    Outbound,
    Note,
}

/// How a message travels: a channel's transport, or `Note` (it does not travel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Sms,
    Whatsapp,
    Telegram,
    Note,
}

impl Transport {
    pub const ALL: [Transport; 4] = [Transport::Sms, Transport::Whatsapp, Transport::Telegram, Transport::Note];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Sms => "sms",
            Transport::Whatsapp => "whatsapp",
            Transport::Telegram => "telegram",
            Transport::Note => "note",
        }
    }

    /// The kind of contact a message on this transport goes to (none for a note).
    pub fn reaches(self) -> Option<ContactType> {
        match self {
            Transport::Sms => Some(ContactType::Phone),
            Transport::Whatsapp => Some(ContactType::Whatsapp),
            Transport::Telegram => Some(ContactType::Telegram),
            Transport::Note => None,
        }
    }

    /// The gap a bulk send keeps between two of a tenant's messages on this transport, within
    /// what the provider lets one sender do: Twilio sends 1 SMS a second from a long-code
    /// number and queues WhatsApp beyond its account's rate; Telegram lets a bot send about
    /// 30 messages a second. `None` for a note, which does not travel.
    pub fn pace(self) -> Option<std::time::Duration> {
        match self {
            Transport::Sms => Some(std::time::Duration::from_millis(1000)),
            Transport::Whatsapp => Some(std::time::Duration::from_millis(50)),
            Transport::Telegram => Some(std::time::Duration::from_millis(40)),
            Transport::Note => None,
        }
    }

    pub fn direction_out(self) -> Direction {
        if self == Transport::Note { Direction::Note } else { Direction::Outbound }
    }

    /// Whom a message on this transport is handed to, by name ("" for a note).
    pub fn provider(self) -> &'static str {
        match self {
            Transport::Sms | Transport::Whatsapp => "Twilio",
            Transport::Telegram => "Telegram",
            Transport::Note => "",
        }
    }
}

impl FromStr for Transport {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Transport::ALL.into_iter().find(|t| t.as_str() == s).ok_or(DomainError::new("transport", "invalid_transport"))
    }
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Note => "note",
        }
    }
}

impl FromStr for Direction {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Direction::Inbound, Direction::Outbound, Direction::Note]
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or(DomainError::new("direction", "invalid_choice"))
    }
}

/// Where an outbound message's delivery stands. It only moves forward
/// (queued < sent < delivered < read); `Failed`, `Undelivered` and `Unknown` end it, and only an
/// explicit retry starts it again. `Unknown`: a provider was called and its answer lost, and it
/// cannot be asked whether it sent the message (a person decides whether to send it again). Provider callbacks come late, twice and out of order: `after` says
/// what a report changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its time (`send_at`); the delivery worker queues it then.
    Scheduled,
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
    Undelivered,
    Unknown,
    /// Scheduled, then called off before it left: never sent.
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 9] = [
        DeliveryStatus::Scheduled,
        DeliveryStatus::Queued,
        DeliveryStatus::Sent,
        DeliveryStatus::Delivered,
        DeliveryStatus::Read,
        DeliveryStatus::Failed,
        DeliveryStatus::Undelivered,
        DeliveryStatus::Unknown,
        DeliveryStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Scheduled => "scheduled",
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Undelivered => "undelivered",
            DeliveryStatus::Unknown => "unknown",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// How far delivery got: later states rank higher, and an ended one highest.
    pub fn rank(self) -> u8 {
        match self {
            DeliveryStatus::Scheduled | DeliveryStatus::Queued => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered => 2,
            DeliveryStatus::Read => 3,
            DeliveryStatus::Failed
            | DeliveryStatus::Undelivered
            | DeliveryStatus::Unknown
            | DeliveryStatus::Cancelled => 4,
        }
    }

    /// Ended without reaching the client, or without knowing: what a person may send again.
    pub fn may_retry(self) -> bool {
        matches!(self, DeliveryStatus::Failed | DeliveryStatus::Undelivered | DeliveryStatus::Unknown)
    }

    /// The status once `reported` arrives, or `None` when the report changes nothing: it is
    /// not ahead of where the message stands, or the message has ended. A failure counts only
    /// before delivery (a late "undelivered" cannot undo a "delivered").
    pub fn after(self, reported: DeliveryStatus) -> Option<DeliveryStatus> {
        // Nothing has been sent of a scheduled or cancelled message: no report is about it.
        if self.may_retry() || matches!(self, DeliveryStatus::Scheduled | DeliveryStatus::Cancelled) {
            return None;
        }
        match reported {
            DeliveryStatus::Failed | DeliveryStatus::Undelivered | DeliveryStatus::Unknown => {
                matches!(self, DeliveryStatus::Queued | DeliveryStatus::Sent).then_some(reported)
            }
            _ => (reported.rank() > self.rank()).then_some(reported),
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryStatus::ALL.into_iter().find(|x| x.as_str() == s).ok_or(DomainError::new("status", "invalid_choice"))
    }
}

/// When a reply is to leave, if not now: a time to come, at most a year ahead; a note is
/// written at once (it goes nowhere, so it cannot wait for anything).
pub fn schedule(
    send_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    transport: Transport,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, DomainError> {
    let Some(at) = send_at else { return Ok(None) };
    if transport == Transport::Note {
        return Err(DomainError::new("send_at", "note_cannot_wait"));
    }
    if at <= now {
        return Err(DomainError::new("send_at", "send_at_in_past"));
    }
    if at > now + chrono::Duration::days(366) {
        return Err(DomainError::new("send_at", "send_at_too_far"));
    }
    Ok(Some(at))
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A member of staff.
    User { id: UserId, name: String },
    /// The client, through one of their contacts.
    Client { client_id: ClientId, contact_id: ContactId },
    /// The CRM itself (an automatic reply, a notice).
    System,
}

/// A message's text: trimmed of surrounding blank lines and spaces, at most 4,096 characters
/// (Telegram's limit, and ten SMS). Empty only when the message carries attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4096;

    pub fn parse(raw: &str, has_attachments: bool) -> Result<Self, DomainError> {
        let body = raw.trim();
        if body.is_empty() && !has_attachments {
            return Err(DomainError::new("body", "required"));
        }
        if body.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::new("body", "too_long"));
        }
        Ok(Self(body.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A template's shortcut, typed after `/` in the composer: 1 to 32 lower-case letters,
/// digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

impl Shortcut {
    pub fn parse(raw: &str) -> Result<Option<Self>, DomainError> {
        let s = raw.trim().trim_start_matches('/').to_lowercase();
        if s.is_empty() {
            return Ok(None);
        }
        let ok = s.chars().count() <= 32 && s.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if ok { Ok(Some(Self(s))) } else { Err(DomainError::new("shortcut", "invalid_shortcut")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The variables a template body may hold, as `{{name}}`.
pub const TEMPLATE_VARIABLES: [&str; 6] =
    ["client.first_name", "client.last_name", "client.full_name", "agent.first_name", "agent.name", "company.name"];

/// A template body with its variables filled in, and the variables it could not fill: unknown
/// ones, and known ones with no value for this client. Those stay in the text as typed, so
/// the composer can flag them before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub unfilled: Vec<String>,
}

/// Fills `{{variable}}` placeholders (spaces inside the braces allowed) from `value`.
pub fn render_template(body: &str, value: impl Fn(&str) -> Option<String>) -> Rendered {
    let mut text = String::with_capacity(body.len());
    let mut unfilled = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        let name = rest[start + 2..start + 2 + len].trim();
        text.push_str(&rest[..start]);
        let filled = TEMPLATE_VARIABLES.contains(&name).then(|| value(name)).flatten().filter(|v| !v.trim().is_empty());
        match filled {
            Some(v) => text.push_str(&v),
            None => {
                text.push_str(&rest[start..start + len + 4]);
                if !unfilled.iter().any(|u| u == name) {
                    unfilled.push(name.to_owned());
                }
            }
        }
        rest = &rest[start + len + 4..];
    }
    text.push_str(rest);
    Rendered { text, unfilled }
}

/// The variables of a template body that no client or agent could ever fill (typos), so an
/// admin hears of them when saving.
pub fn unknown_variables(body: &str) -> Vec<String> {
    render_template(body, |_| Some("x".into())).unfilled
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    #[test]
    fn delivery_only_moves_forward_and_failure_ends_it() {
        assert_eq!(Queued.after(Sent), Some(Sent));
        assert_eq!(Sent.after(Read), Some(Read), "a step may be skipped");
        assert_eq!(Delivered.after(Sent), None, "a late sent after delivered changes nothing");
        assert_eq!(Delivered.after(Delivered), None, "a repeat changes nothing");
        assert_eq!(Sent.after(Undelivered), Some(Undelivered));
        assert_eq!(Delivered.after(Failed), None, "a failure cannot undo a delivery");
        assert_eq!(Failed.after(Delivered), None, "only a retry revives a failed message");
        assert_eq!(Read.after(Delivered), None);
        assert_eq!(Queued.after(Unknown), Some(Unknown));
        assert_eq!(Unknown.after(Delivered), None, "unknown ends it like a failure");
        assert!(Unknown.may_retry() && Failed.may_retry() && !Sent.may_retry());
        for s in DeliveryStatus::ALL {
            assert_eq!(s.as_str().parse::<DeliveryStatus>().unwrap(), s);
        }
    }

    #[test]
    fn a_body_is_trimmed_required_unless_files_go_with_it_and_bounded() {
        assert_eq!(MessageBody::parse("  hi \n", false).unwrap().as_str(), "hi");
        assert_eq!(MessageBody::parse(" \n ", false).unwrap_err().code, "required");
        assert_eq!(MessageBody::parse("", true).unwrap().as_str(), "");
        assert_eq!(MessageBody::parse(&"я".repeat(4097), false).unwrap_err().code, "too_long");
    }

    #[test]
    fn templates_fill_known_variables_and_flag_the_rest() {
        let value = |name: &str| match name {
            "client.first_name" => Some("Dilnoza".to_owned()),
            "agent.first_name" => Some("Olivia".to_owned()),
            "client.last_name" => Some(" ".to_owned()),
            _ => None,
        };
        let r = render_template(
            "Hi {{ client.first_name }}, {{agent.first_name}} here. {{client.last_name}} {{clinet.x}} {{",
            value,
        );
        assert_eq!(r.text, "Hi Dilnoza, Olivia here. {{client.last_name}} {{clinet.x}} {{");
        assert_eq!(r.unfilled, ["client.last_name", "clinet.x"]);
        assert_eq!(unknown_variables("{{client.first_name}} {{agent.nmae}}"), ["agent.nmae"]);
    }

    #[test]
    fn a_reply_waits_for_a_time_to_come_within_a_year_and_a_note_never_waits() {
        let now = chrono::Utc::now();
        let later = now + chrono::Duration::hours(2);
        assert_eq!(schedule(None, now, Transport::Sms), Ok(None));
        assert_eq!(schedule(Some(later), now, Transport::Sms), Ok(Some(later)));
        assert_eq!(schedule(Some(now), now, Transport::Sms).unwrap_err().code, "send_at_in_past");
        let far = now + chrono::Duration::days(400);
        assert_eq!(schedule(Some(far), now, Transport::Telegram).unwrap_err().code, "send_at_too_far");
        assert_eq!(schedule(Some(later), now, Transport::Note).unwrap_err().code, "note_cannot_wait");
    }

    #[test]
    fn shortcuts_are_lower_case_words_typed_after_a_slash() {
        assert_eq!(Shortcut::parse("/Hello_1").unwrap().unwrap().as_str(), "hello_1");
        assert_eq!(Shortcut::parse("  ").unwrap(), None);
        assert_eq!(Shortcut::parse("two words").unwrap_err().code, "invalid_shortcut");
    }

    #[test]
    fn transports_reach_their_kind_of_contact() {
        assert_eq!(Transport::Sms.reaches(), Some(ContactType::Phone));
        assert_eq!(Transport::Note.reaches(), None);
        assert_eq!(Transport::Note.direction_out(), Direction::Note);
        assert_eq!("telegram".parse::<Transport>().unwrap(), Transport::Telegram);
    }
}
