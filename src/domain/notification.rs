//! What a user is told of, in the notification centre (the bell) and, when they linked it,
//! on Telegram.

use chrono::{DateTime, Utc};

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct NotificationId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// A colleague named them in a note or a comment.
    Mention,
    /// A task's reminder time came.
    Reminder,
    /// A colleague gave them a task.
    TaskAssigned,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Mention => "mention",
            NotificationKind::Reminder => "reminder",
            NotificationKind::TaskAssigned => "task_assigned",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Ok(match raw {
            "mention" => NotificationKind::Mention,
            "reminder" => NotificationKind::Reminder,
            "task_assigned" => NotificationKind::TaskAssigned,
            _ => return Err(DomainError::new("kind", "invalid_value")),
        })
    }
}

/// A notification as stored: `data` holds what its sentence needs, as it was when written
/// (`title` of the task, `by` who mentioned, `record` the name of what it is about, `excerpt`).
#[derive(Debug, Clone)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub data: serde_json::Value,
    /// The page it leads to.
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// A text value of `data`, or nothing.
    pub fn text(&self, key: &str) -> &str {
        self.data.get(key).and_then(|v| v.as_str()).unwrap_or_default()
    }
}

/// A notification to write.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: super::UserId,
    pub kind: NotificationKind,
    pub data: serde_json::Value,
    pub url: String,
}
