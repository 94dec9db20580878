//! Tasks: something to do by a time, for someone, often about a client, a company or a deal;
//! a reminder before it, a category (a category may ask for a note on completion). Here: the
//! types, and a task's fields as typed or sent.

use chrono::{DateTime, Utc};

use super::pipeline::Color;
use super::record::RecordRef;
use super::tag::TagName;
use super::{DomainError, Named, TimeZone, UserId, parse_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CategoryId(pub i64);

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest description or completion note, in characters.
pub const MAX_TEXT: usize = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Low, Priority::Normal, Priority::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == raw.trim())
            .ok_or(DomainError::new("priority", "invalid_priority"))
    }
}

/// A task category: admins make them; one may ask for a note when a task of it is completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub color: Color,
    pub note_required: bool,
}

/// A category's fields as typed or sent; for an edit, what is absent stays.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub color: Option<String>,
    pub note_required: Option<bool>,
}

/// A category's checked fields (its name as unique as a tag's: one whatever its case).
#[derive(Debug, Clone)]
pub struct CategoryFields {
    pub name: TagName,
    pub color: Color,
    pub note_required: bool,
}

impl CategoryInput {
    pub fn apply(&self, current: Option<&Category>) -> Result<CategoryFields, Vec<DomainError>> {
        let mut errors = Vec::new();
        let name = match (self.name.as_deref(), current) {
            (Some(raw), _) => TagName::parse(raw).map_err(|e| errors.push(e)).ok(),
            (None, Some(c)) => TagName::parse(&c.name).ok(),
            (None, None) => {
                errors.push(DomainError::new("name", "required"));
                None
            }
        };
        let color = match (self.color.as_deref().map(str::trim).filter(|c| !c.is_empty()), current) {
            (Some(raw), _) => Color::parse(raw).map_err(|e| errors.push(e)).ok(),
            (None, Some(c)) => Some(c.color.clone()),
            (None, None) => Color::parse(super::tag::DEFAULT_COLOR).ok(),
        };
        let note_required = self.note_required.or(current.map(|c| c.note_required)).unwrap_or(false);
        match (name, color) {
            (Some(name), Some(color)) if errors.is_empty() => Ok(CategoryFields { name, color, note_required }),
            _ => Err(errors),
        }
    }
}

/// A task as stored, with the names it shows.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: TaskId,
    pub fields: TaskFields,
    pub category: Option<Category>,
    pub assignee: Option<Named<UserId>>,
    pub created_by: Option<Named<UserId>>,
    /// The record it is about, with that record's name.
    pub record: Option<(RecordRef, String)>,
    pub reminded_at: Option<DateTime<Utc>>,
    /// When its due time passed while it was open (`task.overdue` was announced then).
    pub overdue_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Named<UserId>>,
    pub done_note: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    pub fn is_done(&self) -> bool {
        self.done_at.is_some()
    }

    /// Open, and its due time has passed.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        !self.is_done() && self.fields.due_at.is_some_and(|d| d <= now)
    }
}

/// A task's checked fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFields {
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub category_id: Option<CategoryId>,
    pub due_at: Option<DateTime<Utc>>,
    pub remind_at: Option<DateTime<Utc>>,
    pub assignee_id: Option<UserId>,
    pub record: Option<RecordRef>,
}

/// A task's fields as typed or sent: text, as a form or a JSON body carries it. For an edit,
/// an absent field keeps its value and an empty one clears it.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<String>,
    pub category_id: Option<String>,
    pub due_at: Option<String>,
    pub remind_at: Option<String>,
    pub assignee_id: Option<String>,
    pub client_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
}

impl TaskInput {
    pub const FIELDS: [&'static str; 10] = [
        "title",
        "description",
        "priority",
        "category_id",
        "due_at",
        "remind_at",
        "assignee_id",
        "client_id",
        "company_id",
        "deal_id",
    ];

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "title" => &mut self.title,
            "description" => &mut self.description,
            "priority" => &mut self.priority,
            "category_id" => &mut self.category_id,
            "due_at" => &mut self.due_at,
            "remind_at" => &mut self.remind_at,
            "assignee_id" => &mut self.assignee_id,
            "client_id" => &mut self.client_id,
            "company_id" => &mut self.company_id,
            "deal_id" => &mut self.deal_id,
            _ => return None,
        })
    }

    /// The fields after this input, on `current` (an edit) or on nothing (a new task); times
    /// typed without an offset are on `clock`. Every field at fault is named at once. That the
    /// category, the assignee and the record exist is the service's to check.
    pub fn apply(&self, current: Option<&TaskFields>, clock: TimeZone) -> Result<TaskFields, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut f = current.cloned().unwrap_or_default();
        if let Some(raw) = &self.title {
            match super::record::parse_text("title", raw, MAX_TITLE) {
                Ok(t) => f.title = t,
                Err(e) => errors.push(e),
            }
        } else if current.is_none() {
            errors.push(DomainError::new("title", "required"));
        }
        if let Some(raw) = &self.description {
            let text = raw.trim();
            if text.chars().count() > MAX_TEXT {
                errors.push(DomainError::new("description", "too_long"));
            } else {
                f.description = text.to_owned();
            }
        }
        if let Some(raw) = self.priority.as_deref() {
            match raw.trim() {
                "" => f.priority = Priority::Normal,
                p => match Priority::parse(p) {
                    Ok(p) => f.priority = p,
                    Err(e) => errors.push(e),
                },
            }
        }
        if let Some(raw) = &self.category_id {
            match parse_id("category_id", raw) {
                Ok(c) => f.category_id = c.map(CategoryId),
                Err(e) => errors.push(e),
            }
        }
        if let Some(raw) = &self.due_at {
            match clock.parse_moment("due_at", raw) {
                Ok(t) => f.due_at = t,
                Err(e) => errors.push(e),
            }
        }
        if let Some(raw) = &self.remind_at {
            match clock.parse_moment("remind_at", raw) {
                Ok(t) => f.remind_at = t,
                Err(e) => errors.push(e),
            }
        }
        if let Some(raw) = &self.assignee_id {
            match parse_id("assignee_id", raw) {
                Ok(u) => f.assignee_id = u.map(UserId),
                Err(e) => errors.push(e),
            }
        }
        match self.record(f.record) {
            Ok(r) => f.record = r,
            Err(e) => errors.push(e),
        }
        if errors.is_empty() { Ok(f) } else { Err(errors) }
    }

    /// The record the task is about after this input: the one named (at most one of
    /// `client_id`, `company_id`, `deal_id` may name one), or `current` when none is sent.
    fn record(&self, current: Option<RecordRef>) -> Result<Option<RecordRef>, DomainError> {
        let sent = [("client_id", &self.client_id), ("company_id", &self.company_id), ("deal_id", &self.deal_id)];
        if sent.iter().all(|(_, v)| v.is_none()) {
            return Ok(current);
        }
        let mut named = None;
        for (field, raw) in sent {
            let Some(raw) = raw else { continue };
            let Some(id) = parse_id(field, raw)? else { continue };
            if named.is_some() {
                return Err(DomainError::new(field, "one_record_only"));
            }
            named = RecordRef::named(field, id);
        }
        // All sent empty: the task stands alone; some empty, one named: that one.
        Ok(named.or_else(|| {
            let cleared = |field: &str| sent.iter().any(|(f, v)| *f == field && v.is_some());
            current.filter(|c| !cleared(&format!("{}_id", c.entity())))
        }))
    }
}

/// Which tasks a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskStatus {
    #[default]
    Open,
    Done,
    /// Open, and due before now.
    Overdue,
    All,
}

impl TaskStatus {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Ok(match raw.trim() {
            "" | "open" => TaskStatus::Open,
            "done" => TaskStatus::Done,
            "overdue" => TaskStatus::Overdue,
            "all" => TaskStatus::All,
            _ => return Err(DomainError::new("status", "invalid_status")),
        })
    }
}

/// A task list's filters.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: TaskStatus,
    pub assignee_id: Option<UserId>,
    pub due_before: Option<DateTime<Utc>>,
    pub record: Option<RecordRef>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ClientId;
    use crate::domain::company::CompanyId;
    use crate::domain::deal::DealId;

    fn input(pairs: &[(&str, &str)]) -> TaskInput {
        let mut i = TaskInput::default();
        for (k, v) in pairs {
            *i.field_mut(k).unwrap() = Some((*v).to_owned());
        }
        i
    }

    #[test]
    fn a_new_task_needs_a_title_and_reads_times_on_the_clock() {
        let tz: TimeZone = "Asia/Tashkent".parse().unwrap();
        let f = input(&[("title", " Call back "), ("due_at", "2026-12-03T15:00"), ("deal_id", "7")])
            .apply(None, tz)
            .unwrap();
        assert_eq!(f.title, "Call back");
        assert_eq!(f.due_at.unwrap().to_rfc3339(), "2026-12-03T10:00:00+00:00");
        assert_eq!(f.record, Some(RecordRef::Deal(DealId(7))));
        assert_eq!(f.priority, Priority::Normal);
        let errors = input(&[("priority", "urgent"), ("remind_at", "soon")]).apply(None, tz).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            fields,
            [("title", "required"), ("priority", "invalid_priority"), ("remind_at", "invalid_datetime")]
        );
    }

    #[test]
    fn a_task_is_about_one_record_at_most_and_an_empty_id_unlinks_it() {
        let tz = TimeZone::UTC;
        let two = input(&[("title", "x"), ("client_id", "1"), ("deal_id", "2")]).apply(None, tz).unwrap_err();
        assert_eq!((two[0].field, two[0].code), ("deal_id", "one_record_only"));
        let current = input(&[("title", "x"), ("client_id", "1")]).apply(None, tz).unwrap();
        let kept = input(&[("title", "y")]).apply(Some(&current), tz).unwrap();
        assert_eq!(kept.record, Some(RecordRef::Client(ClientId(1))));
        let moved = input(&[("client_id", ""), ("company_id", "4")]).apply(Some(&current), tz).unwrap();
        assert_eq!(moved.record, Some(RecordRef::Company(CompanyId(4))));
        let alone = input(&[("client_id", "")]).apply(Some(&current), tz).unwrap();
        assert_eq!(alone.record, None);
    }
}
