//! The team's side of the inbox: the views (Mine, Unassigned, All) and status filter over the
//! chat list, and the thread header's assignment and status controls.

use chrono::{DateTime, Utc};

use crate::domain::UserId;
use crate::domain::chat::{AssigneeFilter, ChatStatus, InboxRow, VIEW_COUNT_CAP, ViewCounts};
use crate::i18n::Tr;
use crate::web::views::tags::{TagChip, TagChoice};

/// Whose chats the list shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum InboxView {
    Mine,
    Unassigned,
    #[default]
    All,
}

impl InboxView {
    pub const ALL: [InboxView; 3] = [InboxView::Mine, InboxView::Unassigned, InboxView::All];

    pub fn slug(self) -> &'static str {
        match self {
            InboxView::Mine => "mine",
            InboxView::Unassigned => "unassigned",
            InboxView::All => "all",
        }
    }

    /// `all` for anything unknown or absent.
    pub fn from_slug(s: &str) -> InboxView {
        InboxView::ALL.into_iter().find(|v| v.slug() == s).unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            InboxView::Mine => "chats.view.mine",
            InboxView::Unassigned => "chats.view.unassigned",
            InboxView::All => "chats.view.all",
        }
    }

    pub fn assignee(self, me: UserId) -> AssigneeFilter {
        match self {
            InboxView::Mine => AssigneeFilter::User(me),
            InboxView::Unassigned => AssigneeFilter::Nobody,
            InboxView::All => AssigneeFilter::Anyone,
        }
    }
}

/// The status the list shows: `open` when absent, `any` for every status.
pub fn status_filter(raw: &str) -> Option<ChatStatus> {
    match raw.trim() {
        "" => Some(ChatStatus::Open),
        "any" => None,
        s => Some(s.parse().unwrap_or_default()),
    }
}

/// The label key of a status.
pub fn status_label(status: ChatStatus) -> &'static str {
    match status {
        ChatStatus::Open => "chats.status.open",
        ChatStatus::Pending => "chats.status.pending",
        ChatStatus::Resolved => "chats.status.resolved",
        ChatStatus::Snoozed => "chats.status.snoozed",
    }
}

/// One tab over the list: a view, how many chats it holds, and where it leads.
pub struct ViewTab {
    pub label: &'static str,
    pub count: String,
    pub href: String,
    pub current: bool,
}

impl ViewTab {
    /// The three tabs; `href` gives a view's URL with the other filters kept.
    pub fn all(current: InboxView, counts: ViewCounts, href: impl Fn(InboxView) -> String) -> Vec<ViewTab> {
        let shown = |n: i64| if n >= VIEW_COUNT_CAP { format!("{}+", VIEW_COUNT_CAP - 1) } else { n.to_string() };
        InboxView::ALL
            .into_iter()
            .map(|view| ViewTab {
                label: view.label(),
                count: shown(match view {
                    InboxView::Mine => counts.mine,
                    InboxView::Unassigned => counts.unassigned,
                    InboxView::All => counts.all,
                }),
                href: href(view),
                current: view == current,
            })
            .collect()
    }
}

/// How long a snooze lasts, as the thread header offers it: (form value, label key, hours).
pub const SNOOZES: [(&str, &str, i64); 4] = [
    ("1h", "chats.snooze.hour", 1),
    ("4h", "chats.snooze.hours4", 4),
    ("1d", "chats.snooze.day", 24),
    ("1w", "chats.snooze.week", 24 * 7),
];

/// When a snooze chosen in the header ends, from now.
pub fn snooze_until(choice: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    SNOOZES.iter().find(|(value, ..)| *value == choice).map(|(.., hours)| now + chrono::Duration::hours(*hours))
}

/// The thread header's controls: who works the chat and where it stands.
pub struct WorkPanel {
    pub tr: Tr,
    pub assignee: Option<(i64, String)>,
    pub is_mine: bool,
    /// Who a chat may be assigned to: (id, name).
    pub people: Vec<(i64, String)>,
    pub status: ChatStatus,
    /// "until 14:30" for a snoozed chat.
    pub snoozed_until: Option<String>,
    /// May assign and change status and tags (ChatUpdate).
    pub can_change: bool,
    /// The tags the chat carries; every tag of the tenant to pick from.
    pub tags: Vec<TagChip>,
    pub tag_choices: Vec<TagChoice>,
}

impl WorkPanel {
    /// `(value, label key, hours)` of each snooze length offered.
    pub fn snoozes(&self) -> &'static [(&'static str, &'static str, i64)] {
        &SNOOZES
    }

    /// The panel of chat `row` for `me`: whom it may go to (`people`), and the tags to pick
    /// from (`tag_choices`, from `views::tags::choices`).
    pub fn new(
        tr: Tr,
        row: &InboxRow,
        me: UserId,
        people: Vec<(UserId, String)>,
        can_change: bool,
        tag_choices: Vec<TagChoice>,
    ) -> Self {
        Self {
            tags: TagChip::of(&row.tags),
            tag_choices,
            tr,
            assignee: row.assignee.as_ref().map(|a| (a.id.0, a.name.clone())),
            is_mine: row.assignee.as_ref().is_some_and(|a| a.id == me),
            people: people.into_iter().map(|(id, name)| (id.0, name)).collect(),
            status: row.status,
            snoozed_until: row.snoozed_until.map(|t| tr.datetime(&t)),
            can_change,
        }
    }

    pub fn status_label(&self) -> &'static str {
        status_label(self.status)
    }

    pub fn is_assigned_to(&self, id: &i64) -> bool {
        self.assignee.as_ref().is_some_and(|(a, _)| a == id)
    }

    pub fn is(&self, status: &str) -> bool {
        self.status.as_str() == status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_shows_open_chats_unless_told_otherwise() {
        assert_eq!(status_filter(""), Some(ChatStatus::Open));
        assert_eq!(status_filter("resolved"), Some(ChatStatus::Resolved));
        assert_eq!(status_filter("any"), None);
        assert_eq!(status_filter("nonsense"), Some(ChatStatus::Open));
        assert_eq!(InboxView::from_slug("mine"), InboxView::Mine);
        assert_eq!(InboxView::from_slug("x"), InboxView::All);
    }

    #[test]
    fn tab_counts_past_the_cap_read_as_a_lower_bound() {
        let counts = ViewCounts { mine: 3, unassigned: 0, all: VIEW_COUNT_CAP };
        let tabs = ViewTab::all(InboxView::Mine, counts, |v| format!("/crm/chats?view={}", v.slug()));
        let shown: Vec<_> = tabs.iter().map(|t| (t.count.as_str(), t.current)).collect();
        assert_eq!(shown, [("3", true), ("0", false), ("999+", false)]);
    }
}

/// The thread header's controls alone: what a page fetches again when the chat changes (a
/// colleague assigned or resolved it), so every open thread shows where it stands.
#[derive(askama::Template)]
#[template(path = "chats/work.html")]
pub struct WorkFragment {
    pub tr: Tr,
    pub csrf: String,
    pub chat_id: i64,
    /// Where the header's forms return to.
    pub here: String,
    pub work: WorkPanel,
}

impl WorkFragment {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }
}
