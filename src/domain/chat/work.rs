//! How a team works a chat: who it is assigned to, and where it stands (open, pending,
//! resolved, or snoozed until a time).

use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::domain::{DomainError, UserId};

/// Where a chat stands for the team. A snoozed chat has a time it opens again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChatStatus {
    /// Waiting for the team.
    #[default]
    Open,
    /// Waiting on someone else (the client, a colleague).
    Pending,
    /// Done; the client's next message opens it again.
    Resolved,
    /// Out of sight until its time, or the client's next message.
    Snoozed,
}

impl ChatStatus {
    pub const ALL: [ChatStatus; 4] = [ChatStatus::Open, ChatStatus::Pending, ChatStatus::Resolved, ChatStatus::Snoozed];

    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Open => "open",
            ChatStatus::Pending => "pending",
            ChatStatus::Resolved => "resolved",
            ChatStatus::Snoozed => "snoozed",
        }
    }
}

impl FromStr for ChatStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChatStatus::ALL.into_iter().find(|c| c.as_str() == s.trim()).ok_or(DomainError::new("status", "invalid_choice"))
    }
}

/// Whose chats a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Anyone,
    Nobody,
    User(UserId),
}

impl AssigneeFilter {
    /// `me`, `none`, a user's id, or empty (anyone), as the list's `assignee` parameter says it.
    pub fn parse(raw: &str, me: UserId) -> Result<Self, DomainError> {
        match raw.trim() {
            "" | "any" => Ok(AssigneeFilter::Anyone),
            "none" => Ok(AssigneeFilter::Nobody),
            "me" => Ok(AssigneeFilter::User(me)),
            id => id
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(|id| AssigneeFilter::User(UserId(id)))
                .ok_or(DomainError::new("assignee", "invalid_assignee")),
        }
    }
}

/// A new status for a chat: one of the three kept until changed, or a snooze until a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Open,
    Pending,
    Resolved,
    SnoozeUntil(DateTime<Utc>),
}

impl StatusChange {
    /// From a `status` and a `snoozed_until` (either may be absent; `None` when both are): a
    /// snooze needs a time after `now`, and a time goes with no other status.
    pub fn parse(
        status: Option<&str>,
        snoozed_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Self>, DomainError> {
        let status = status.map(str::parse::<ChatStatus>).transpose()?;
        match (status, snoozed_until) {
            (None, None) => Ok(None),
            (None | Some(ChatStatus::Snoozed), Some(until)) if until <= now => {
                Err(DomainError::new("snoozed_until", "snooze_in_past"))
            }
            (None | Some(ChatStatus::Snoozed), Some(until)) => Ok(Some(StatusChange::SnoozeUntil(until))),
            (Some(ChatStatus::Snoozed), None) => Err(DomainError::new("snoozed_until", "required")),
            (Some(_), Some(_)) => Err(DomainError::new("snoozed_until", "snooze_with_status")),
            (Some(ChatStatus::Open), None) => Ok(Some(StatusChange::Open)),
            (Some(ChatStatus::Pending), None) => Ok(Some(StatusChange::Pending)),
            (Some(ChatStatus::Resolved), None) => Ok(Some(StatusChange::Resolved)),
        }
    }

    pub fn status(self) -> ChatStatus {
        match self {
            StatusChange::Open => ChatStatus::Open,
            StatusChange::Pending => ChatStatus::Pending,
            StatusChange::Resolved => ChatStatus::Resolved,
            StatusChange::SnoozeUntil(_) => ChatStatus::Snoozed,
        }
    }

    pub fn snoozed_until(self) -> Option<DateTime<Utc>> {
        match self {
            StatusChange::SnoozeUntil(until) => Some(until),
            _ => None,
        }
    }
}

/// What a change to a chat's work asks for; each part present is applied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatChange {
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<UserId>>,
    pub status: Option<StatusChange>,
    /// The tags the chat is to carry, by id as sent (`None` leaves them).
    pub tag_ids: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_snooze_needs_a_time_to_come_and_no_other_status() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap();
        let later = now + chrono::Duration::hours(1);
        assert_eq!(StatusChange::parse(None, None, now), Ok(None));
        assert_eq!(StatusChange::parse(Some("resolved"), None, now), Ok(Some(StatusChange::Resolved)));
        assert_eq!(StatusChange::parse(None, Some(later), now), Ok(Some(StatusChange::SnoozeUntil(later))));
        assert_eq!(StatusChange::parse(Some("snoozed"), Some(later), now), Ok(Some(StatusChange::SnoozeUntil(later))));
        let code = |r: Result<Option<StatusChange>, DomainError>| r.unwrap_err().code;
        assert_eq!(code(StatusChange::parse(None, Some(now), now)), "snooze_in_past");
        assert_eq!(code(StatusChange::parse(Some("snoozed"), None, now)), "required");
        assert_eq!(code(StatusChange::parse(Some("open"), Some(later), now)), "snooze_with_status");
        assert_eq!(code(StatusChange::parse(Some("closed"), None, now)), "invalid_choice");
    }

    #[test]
    fn a_views_assignee_is_me_none_an_id_or_anyone() {
        let me = UserId(7);
        assert_eq!(AssigneeFilter::parse("", me), Ok(AssigneeFilter::Anyone));
        assert_eq!(AssigneeFilter::parse("me", me), Ok(AssigneeFilter::User(me)));
        assert_eq!(AssigneeFilter::parse("none", me), Ok(AssigneeFilter::Nobody));
        assert_eq!(AssigneeFilter::parse("42", me), Ok(AssigneeFilter::User(UserId(42))));
        assert_eq!(AssigneeFilter::parse("-1", me).unwrap_err().code, "invalid_assignee");
    }
}
