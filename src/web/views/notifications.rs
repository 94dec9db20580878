//! Notifications as the bell's list and the API say them: one sentence each, in the reader's
//! language, made from what the notification kept.

use crate::domain::notification::Notification;
use crate::i18n::Tr;

pub use crate::services::notifications::sentence;

/// One line of the bell's list.
pub struct NotificationRow {
    pub id: i64,
    pub text: String,
    pub url: String,
    pub unread: bool,
    pub when: String,
    /// `mention`, `reminder`, `task_assigned`: the icon it shows.
    pub kind: &'static str,
}

impl NotificationRow {
    pub fn new(tr: &Tr, n: &Notification) -> Self {
        Self {
            id: n.id.0,
            text: sentence(tr, n),
            url: n.url.clone(),
            unread: n.read_at.is_none(),
            when: tr.datetime(&n.created_at),
            kind: n.kind.as_str(),
        }
    }
}
