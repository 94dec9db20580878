//! A record's timeline: what happened to a client, a company or a deal, newest first. Each
//! entry is written in the transaction of the change it tells of.

use chrono::{DateTime, Utc};

use super::record::RecordRef;
use super::{Actor, DomainError, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ActivityId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Created,
    MessageIn,
    MessageOut,
    Note,
    Comment,
    StageMoved,
    FieldChanged,
    Tagged,
    TaskCreated,
    TaskDone,
    TaskReopened,
    Merged,
    Automation,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 13] = [
        ActivityKind::Created,
        ActivityKind::MessageIn,
        ActivityKind::MessageOut,
        ActivityKind::Note,
        ActivityKind::Comment,
        ActivityKind::StageMoved,
        ActivityKind::FieldChanged,
        ActivityKind::Tagged,
        ActivityKind::TaskCreated,
        ActivityKind::TaskDone,
        ActivityKind::TaskReopened,
        ActivityKind::Merged,
        ActivityKind::Automation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Created => "created",
            ActivityKind::MessageIn => "message_in",
            ActivityKind::MessageOut => "message_out",
            ActivityKind::Note => "note",
            ActivityKind::Comment => "comment",
            ActivityKind::StageMoved => "stage_moved",
            ActivityKind::FieldChanged => "field_changed",
            ActivityKind::Tagged => "tagged",
            ActivityKind::TaskCreated => "task_created",
            ActivityKind::TaskDone => "task_done",
            ActivityKind::TaskReopened => "task_reopened",
            ActivityKind::Merged => "merged",
            ActivityKind::Automation => "automation",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        ActivityKind::ALL.into_iter().find(|k| k.as_str() == raw.trim()).ok_or(DomainError::new("kind", "invalid_kind"))
    }
}

/// Who did what an entry tells of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityActor {
    User {
        id: Option<UserId>,
        name: String,
    },
    /// The client, writing in.
    Client {
        name: String,
    },
    System,
    Automation {
        name: String,
    },
}

impl ActivityActor {
    pub fn kind(&self) -> &'static str {
        match self {
            ActivityActor::User { .. } => "user",
            ActivityActor::Client { .. } => "client",
            ActivityActor::System => "system",
            ActivityActor::Automation { .. } => "automation",
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            ActivityActor::User { id, .. } => *id,
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            ActivityActor::User { name, .. } | ActivityActor::Client { name } | ActivityActor::Automation { name } => {
                name
            }
            ActivityActor::System => "system",
        }
    }

    pub fn from_parts(kind: &str, id: Option<UserId>, name: String) -> Option<Self> {
        Some(match kind {
            "user" => ActivityActor::User { id, name },
            "client" => ActivityActor::Client { name },
            "system" => ActivityActor::System,
            "automation" => ActivityActor::Automation { name },
            _ => return None,
        })
    }
}

impl From<&Actor> for ActivityActor {
    fn from(a: &Actor) -> Self {
        match a {
            Actor::User { id, name } => ActivityActor::User { id: Some(*id), name: name.clone() },
            Actor::System => ActivityActor::System,
        }
    }
}

/// An entry as stored.
#[derive(Debug, Clone)]
pub struct Activity {
    pub id: ActivityId,
    pub on: RecordRef,
    pub kind: ActivityKind,
    pub actor: ActivityActor,
    /// Its short text: a note's start, `Proposal → Won`, the fields changed.
    pub summary: String,
    /// What else it shows (ids it links to, old → new values).
    pub data: serde_json::Value,
    pub happened_at: DateTime<Utc>,
}

/// An entry to write.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub on: RecordRef,
    pub kind: ActivityKind,
    pub actor: ActivityActor,
    pub summary: String,
    pub data: serde_json::Value,
}

impl NewActivity {
    pub fn new(on: RecordRef, kind: ActivityKind, actor: impl Into<ActivityActor>, summary: impl Into<String>) -> Self {
        Self { on, kind, actor: actor.into(), summary: summary.into(), data: serde_json::json!({}) }
    }

    pub fn with(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }
}

impl From<Actor> for ActivityActor {
    fn from(a: Actor) -> Self {
        ActivityActor::from(&a)
    }
}

/// One field's change, as a timeline entry shows it: its name, and its text before and after
/// ("" for none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

impl FieldChange {
    /// The changes among `(field, before, after)`: those whose text differs.
    pub fn between<'a>(pairs: impl IntoIterator<Item = (&'static str, Option<&'a str>, Option<&'a str>)>) -> Vec<Self> {
        pairs
            .into_iter()
            .filter(|(_, a, b)| a != b)
            .map(|(field, a, b)| FieldChange {
                field,
                old: excerpt(a.unwrap_or_default()),
                new: excerpt(b.unwrap_or_default()),
            })
            .collect()
    }
}

/// A field-change entry: its summary (`phone: +998901112233 → +998901112244, tags +VIP`: each
/// change old → new, then `also`, what else the edit did) and its data (`{"changes": [...]}`).
pub fn field_changes(
    on: RecordRef,
    actor: impl Into<ActivityActor>,
    changes: &[FieldChange],
    also: &[String],
) -> NewActivity {
    let said = changes.iter().map(|c| {
        let shown = |v: &str| if v.is_empty() { "—".to_owned() } else { v.to_owned() };
        format!("{}: {} → {}", c.field, shown(&c.old), shown(&c.new))
    });
    let summary = said.chain(also.iter().cloned()).collect::<Vec<_>>().join(", ");
    NewActivity::new(on, ActivityKind::FieldChanged, actor, summary).with(serde_json::json!({"changes": changes}))
}

/// How much of a longer text (a note, a message) an entry's summary keeps.
pub const SUMMARY_CHARS: usize = 200;

/// The start of `text` for a summary: at most `SUMMARY_CHARS` characters, on one line.
pub fn excerpt(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= SUMMARY_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(SUMMARY_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_one_line_and_cut_with_an_ellipsis() {
        assert_eq!(excerpt("a\n b  c"), "a b c");
        let long = excerpt(&"я".repeat(300));
        assert_eq!(long.chars().count(), SUMMARY_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn a_field_change_says_old_and_new_and_what_else_changed() {
        let changes = FieldChange::between([
            ("phone", Some("+1"), Some("+2")),
            ("email", None, None),
            ("city", None, Some("Tashkent")),
        ]);
        let entry = field_changes(
            RecordRef::Client(crate::domain::ClientId(1)),
            ActivityActor::System,
            &changes,
            &["tags +VIP".into()],
        );
        assert_eq!(entry.summary, "phone: +1 → +2, city: — → Tashkent, tags +VIP");
        assert_eq!(entry.data["changes"][1]["new"], "Tashkent");
    }

    #[test]
    fn kinds_read_back_as_written() {
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(k.as_str()).unwrap(), k);
        }
        assert_eq!(ActivityKind::parse("nope").unwrap_err().code, "invalid_kind");
    }
}
