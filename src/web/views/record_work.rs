//! What a client's, company's or deal's page shows of the work on it: its notes with their
//! threads, its tasks, and its timeline; and the "My tasks" page.

use askama::Template;
use chrono::Utc;

use crate::domain::activity::{Activity, ActivityActor, ActivityKind};
use crate::domain::note::Note;
use crate::domain::task::{Category, Priority, Task};
use crate::i18n::Tr;
use crate::web::views::{FormErrors, Shell};

/// A comment as a thread shows it, indented by how deep it answers.
pub struct CommentRow {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub when: String,
    pub depth: usize,
}

pub struct NoteRow {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub when: String,
    pub edited: bool,
    pub comments: Vec<CommentRow>,
}

impl NoteRow {
    pub fn new(tr: &Tr, n: &Note) -> Self {
        let name = |a: &Option<crate::domain::Named<crate::domain::UserId>>| {
            a.as_ref().map_or_else(|| tr.t("work.someone").to_owned(), |a| a.name.clone())
        };
        Self {
            id: n.id.0,
            author: name(&n.author),
            body: n.body.clone(),
            when: tr.datetime(&n.created_at),
            edited: n.edited_at.is_some(),
            comments: n
                .thread()
                .into_iter()
                .map(|(c, depth)| CommentRow {
                    id: c.id.0,
                    author: name(&c.author),
                    body: c.body.clone(),
                    when: tr.datetime(&c.created_at),
                    depth: depth.min(4),
                })
                .collect(),
        }
    }
}

/// A task as lists show it.
#[derive(Clone)]
pub struct TaskRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub priority: &'static str,
    pub due: String,
    pub overdue: bool,
    pub done: bool,
    pub assignee: String,
    pub category: Option<(String, String)>,
    pub record: Option<(String, String)>,
    pub done_note: String,
    /// Completing it asks for a note.
    pub note_required: bool,
}

impl TaskRow {
    pub fn new(tr: &Tr, t: &Task) -> Self {
        Self {
            id: t.id.0,
            title: t.fields.title.clone(),
            description: t.fields.description.clone(),
            priority: t.fields.priority.as_str(),
            due: t.fields.due_at.map(|d| tr.datetime(&d)).unwrap_or_default(),
            overdue: t.is_overdue(Utc::now()),
            done: t.is_done(),
            assignee: t.assignee.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            category: t.category.as_ref().map(|c| (c.name.clone(), c.color.as_str().to_owned())),
            record: t.record.as_ref().map(|(r, name)| (r.url(), name.clone())),
            done_note: t.done_note.clone(),
            note_required: t.category.as_ref().is_some_and(|c| c.note_required),
        }
    }
}

/// A timeline entry: who, what (a sentence per kind), and its short text.
pub struct ActivityRow {
    pub kind: &'static str,
    pub sentence: String,
    pub summary: String,
    pub when: String,
}

impl ActivityRow {
    pub fn new(tr: &Tr, a: &Activity) -> Self {
        let who = match &a.actor {
            ActivityActor::System => tr.t("work.system").to_owned(),
            other => other.name().to_owned(),
        };
        Self {
            kind: a.kind.as_str(),
            sentence: tr.t1(&format!("activity.{}", a.kind.as_str()), "who", &who),
            summary: a.summary.clone(),
            when: tr.datetime(&a.happened_at),
        }
    }
}

/// The choices a task form offers.
pub struct TaskChoices {
    pub assignees: Vec<(i64, String)>,
    pub categories: Vec<(i64, String)>,
    pub me: i64,
}

impl TaskChoices {
    pub fn new(assignees: Vec<(crate::domain::UserId, String)>, categories: &[Category], me: i64) -> Self {
        Self {
            assignees: assignees.into_iter().map(|(u, n)| (u.0, n)).collect(),
            categories: categories.iter().map(|c| (c.id.0, c.name.clone())).collect(),
            me,
        }
    }

    /// Each priority, and whether a new task's form picks it.
    pub fn priorities(&self) -> Vec<(&'static str, bool)> {
        Priority::ALL.iter().map(|p| (p.as_str(), *p == Priority::default())).collect()
    }
}

/// The panel under a record's page: notes, tasks, timeline. Its forms post with htmx and get
/// the panel back (with a refusal beside its field, as 422).
#[derive(Template)]
#[template(path = "partials/record_work.html")]
pub struct RecordWorkPanel {
    pub tr: Tr,
    /// Where the panel and its forms live: `/crm/clients/7`.
    pub base: String,
    pub notes: Vec<NoteRow>,
    pub tasks: Vec<TaskRow>,
    pub timeline: Vec<ActivityRow>,
    /// The timeline's filter, and the id of its next page.
    pub kind: String,
    pub older: Option<i64>,
    pub kinds: Vec<&'static str>,
    pub can_note: bool,
    pub can_task: bool,
    pub choices: TaskChoices,
    pub errors: FormErrors,
    /// What a refused form had typed, to show again.
    pub typed: String,
    /// The people a note may mention, for the composer's hint.
    pub mentionable: Vec<String>,
    /// The task form's values (a new one: none).
    pub values: std::collections::HashMap<String, String>,
    /// For the task rows' plain forms, which come back to the record's page.
    pub csrf: String,
    pub back: String,
}

impl RecordWorkPanel {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    pub fn kind_label(&self, kind: &str) -> String {
        self.tr.t(&format!("activity.kind.{kind}")).to_owned()
    }

    pub fn every_kind() -> Vec<&'static str> {
        ActivityKind::ALL.iter().filter(|k| **k != ActivityKind::Automation).map(|k| k.as_str()).collect()
    }
}

/// "My tasks": the reader's tasks by when they are due.
#[derive(Template)]
#[template(path = "tasks/list.html")]
pub struct TasksPage {
    pub shell: Shell,
    /// `today`, `overdue`, `upcoming`, `done`.
    pub view: &'static str,
    pub rows: Vec<TaskRow>,
    pub total: i64,
    pub can_task: bool,
    pub choices: TaskChoices,
    pub errors: FormErrors,
    pub typed: std::collections::HashMap<String, String>,
    /// The task a link pointed at (`?task=ID`), shown first and marked.
    pub focus: Option<i64>,
}

impl TasksPage {
    /// The views' tabs: (view, whether it is this one).
    pub fn tabs(&self) -> Vec<(&'static str, bool)> {
        ["today", "overdue", "upcoming", "done"].into_iter().map(|v| (v, v == self.view)).collect()
    }

    /// Where the rows' forms come back to.
    pub fn back(&self) -> String {
        format!("/crm/tasks?view={}", self.view)
    }

    /// "Showing the first N": when the view holds more than the page.
    pub fn showing(&self) -> String {
        self.shell.tr.t1("tasks.showing", "count", &self.rows.len())
    }
}

/// The bell in the top bar: how many notifications are unread.
#[derive(Template)]
#[template(path = "partials/bell.html")]
pub struct Bell {
    pub tr: Tr,
    pub unread: i64,
}

impl Bell {
    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    pub fn count(&self) -> String {
        if self.unread >= crate::services::notifications::UNREAD_CAP { "99+".into() } else { self.unread.to_string() }
    }
}

/// The notification centre.
#[derive(Template)]
#[template(path = "notifications/list.html")]
pub struct NotificationsPage {
    pub shell: Shell,
    pub rows: Vec<super::notifications::NotificationRow>,
    pub unread: i64,
    pub older: Option<i64>,
}
