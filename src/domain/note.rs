//! Notes on clients, companies and deals, with threaded comments. A note or a comment names
//! colleagues with `@` and their name (or the start of their email): each named is told.

use chrono::{DateTime, Utc};

use super::record::{RecordRef, parse_text};
use super::{DomainError, Named, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct NoteId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CommentId(pub i64);

/// Longest note, in characters.
pub const MAX_NOTE: usize = 10_000;
/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 5_000;

/// A note as its record's page shows it.
#[derive(Debug, Clone)]
pub struct Note {
    pub id: NoteId,
    pub on: RecordRef,
    /// `None` when its author's account is gone.
    pub author: Option<Named<UserId>>,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Oldest first; a reply names the comment it answers.
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: CommentId,
    pub parent_id: Option<CommentId>,
    pub author: Option<Named<UserId>>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl Note {
    /// The comments in reading order, each with how deep it sits (0: answers the note): a
    /// reply right under what it answers, replies to one comment oldest first.
    pub fn thread(&self) -> Vec<(&Comment, usize)> {
        fn walk<'a>(all: &'a [Comment], parent: Option<CommentId>, depth: usize, out: &mut Vec<(&'a Comment, usize)>) {
            for c in all.iter().filter(|c| c.parent_id == parent) {
                out.push((c, depth));
                walk(all, Some(c.id), depth + 1, out);
            }
        }
        let mut out = Vec::with_capacity(self.comments.len());
        walk(&self.comments, None, 0, &mut out);
        out
    }
}

/// A note's text as typed or sent.
pub fn parse_note(raw: &str) -> Result<String, DomainError> {
    parse_text("body", raw, MAX_NOTE)
}

/// A comment's text as typed or sent.
pub fn parse_comment(raw: &str) -> Result<String, DomainError> {
    parse_text("body", raw, MAX_COMMENT)
}

/// A colleague who may be mentioned: their id, name and email.
#[derive(Debug, Clone)]
pub struct Mentionable {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

/// The colleagues `body` mentions, each once, in the order met: `@` then their full name, or
/// the part of their email before `@`, in any case, followed by the end of the text or by
/// something that is not a letter or a digit. Where two names fit ("@Ann" and "@Ann Lee"),
/// the longer one wins. An `@` right after a letter or digit (an email address) mentions no one.
pub fn mentions(body: &str, people: &[Mentionable]) -> Vec<UserId> {
    let lower = body.to_lowercase();
    let mut found = Vec::new();
    for (at, _) in lower.match_indices('@') {
        // An `@` inside a word is an email address's, not a mention.
        if lower[..at].chars().next_back().is_some_and(char::is_alphanumeric) {
            continue;
        }
        let rest = &lower[at + 1..];
        let mut best: Option<(usize, UserId)> = None;
        for p in people {
            let handle = p.email.split('@').next().unwrap_or_default().to_lowercase();
            for said in [p.name.to_lowercase(), handle] {
                if said.is_empty() || !rest.starts_with(&said) {
                    continue;
                }
                let ends_word = rest[said.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
                if ends_word && best.is_none_or(|(len, _)| said.len() > len) {
                    best = Some((said.len(), p.id));
                }
            }
        }
        if let Some((_, id)) = best
            && !found.contains(&id)
        {
            found.push(id);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<Mentionable> {
        let p = |id, name: &str, email: &str| Mentionable { id: UserId(id), name: name.into(), email: email.into() };
        vec![p(1, "Ann", "ann@x.uz"), p(2, "Ann Lee", "lee@x.uz"), p(3, "Дильноза Каримова", "dk@x.uz")]
    }

    #[test]
    fn a_mention_is_a_full_name_or_an_email_handle_the_longest_winning() {
        assert_eq!(mentions("@ann lee, call them", &people()), [UserId(2)]);
        assert_eq!(mentions("ask @Ann. And @dk!", &people()), [UserId(1), UserId(3)]);
        assert_eq!(mentions("@ДИЛЬНОЗА КАРИМОВА @дильноза каримова", &people()), [UserId(3)]);
    }

    #[test]
    fn a_name_inside_a_longer_word_or_an_email_address_is_no_mention() {
        assert!(mentions("@annabel and mail bob@ann.uz", &people()).is_empty());
        assert!(mentions("no one here", &people()).is_empty());
    }

    #[test]
    fn a_thread_puts_each_reply_under_what_it_answers() {
        let c = |id, parent: Option<i64>| Comment {
            id: CommentId(id),
            parent_id: parent.map(CommentId),
            author: None,
            body: String::new(),
            created_at: Utc::now(),
        };
        let note = Note {
            id: NoteId(1),
            on: RecordRef::Client(super::super::ClientId(1)),
            author: None,
            body: "x".into(),
            created_at: Utc::now(),
            edited_at: None,
            comments: vec![c(1, None), c(2, None), c(3, Some(1)), c(4, Some(3))],
        };
        let order: Vec<_> = note.thread().iter().map(|(c, d)| (c.id.0, *d)).collect();
        assert_eq!(order, [(1, 0), (3, 1), (4, 2), (2, 0)]);
    }

    #[test]
    fn text_is_trimmed_and_never_empty_or_too_long() {
        assert_eq!(parse_note("  hi ").unwrap(), "hi");
        assert_eq!(parse_note("  ").unwrap_err().code, "required");
        assert_eq!(parse_comment(&"x".repeat(MAX_COMMENT + 1)).unwrap_err().code, "too_long");
    }
}
