//! Tags: a tenant's own labels, put on clients, companies, deals and chats. A name is unique
//! in its tenant whatever its case ("VIP" and "vip" are one tag); a locked tag is put on and
//! taken off by admins alone. Here: the types, and a tag's fields as typed or sent.

use super::chat::ChatId;
use super::company::CompanyId;
use super::deal::DealId;
use super::pipeline::Color;
use super::{ClientId, DomainError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TagId(pub i64);

impl std::fmt::Display for TagId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Longest name, in characters.
pub const MAX_NAME: usize = 50;

/// Most tags one record carries.
pub const MAX_ON_RECORD: usize = 30;

/// The colour a tag gets when none is chosen.
pub const DEFAULT_COLOR: &str = "#64748b";

/// A tag's name: trimmed, inner runs of spaces made one, 1 to 50 characters, no control
/// characters. Its `key` (the name in small letters, in any alphabet) is what makes two
/// names the same tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName(String);

impl TagName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(DomainError::new("name", "required"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(DomainError::new("name", "too_long"));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::new("name", "invalid_value"));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name folded to small letters (Unicode, so "ВИП" and "вип" are one): unique per tenant.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A tag as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: TagId,
    pub name: String,
    pub color: Color,
    /// Put on and taken off records by admins alone.
    pub locked: bool,
}

/// A tag, and how many records of each kind carry it.
#[derive(Debug, Clone)]
pub struct TagUse {
    pub tag: Tag,
    pub clients: i64,
    pub companies: i64,
    pub deals: i64,
    pub chats: i64,
}

/// A tag's checked fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFields {
    pub name: TagName,
    pub color: Color,
    pub locked: bool,
}

/// A tag's fields as typed or sent. For an edit, an absent field keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagInput {
    pub name: Option<String>,
    pub color: Option<String>,
    pub locked: Option<bool>,
}

impl TagInput {
    /// The fields this input makes of `current` (or of nothing, for a new tag); every error.
    pub fn apply(&self, current: Option<&Tag>) -> Result<TagFields, Vec<DomainError>> {
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
            (None, None) => Color::parse(DEFAULT_COLOR).ok(),
        };
        let locked = self.locked.or(current.map(|c| c.locked)).unwrap_or(false);
        match (name, color) {
            (Some(name), Some(color)) if errors.is_empty() => Ok(TagFields { name, color, locked }),
            _ => Err(errors),
        }
    }
}

/// A record that carries tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "entity", content = "id", rename_all = "snake_case")]
pub enum Tagged {
    Client(ClientId),
    Company(CompanyId),
    Deal(DealId),
    Chat(ChatId),
}

/// What kind of record carries a tag: each keeps its tags in its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaggedKind {
    Client,
    Company,
    Deal,
    Chat,
}

impl Tagged {
    pub fn kind(self) -> TaggedKind {
        match self {
            Tagged::Client(_) => TaggedKind::Client,
            Tagged::Company(_) => TaggedKind::Company,
            Tagged::Deal(_) => TaggedKind::Deal,
            Tagged::Chat(_) => TaggedKind::Chat,
        }
    }

    /// The record's id.
    pub fn id(self) -> i64 {
        match self {
            Tagged::Client(ClientId(id))
            | Tagged::Company(CompanyId(id))
            | Tagged::Deal(DealId(id))
            | Tagged::Chat(ChatId(id)) => id,
        }
    }
}

/// The tags a record is to carry, as sent: a list of ids, each once, at most
/// `MAX_ON_RECORD`. Which exist, and who may put a locked one on, the service decides.
pub fn parse_tag_ids(raw: &[String]) -> Result<Vec<TagId>, DomainError> {
    let mut ids: Vec<TagId> = Vec::new();
    for r in raw.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        match r.parse::<i64>() {
            Ok(id) if id > 0 => {
                if !ids.contains(&TagId(id)) {
                    ids.push(TagId(id));
                }
            }
            _ => return Err(DomainError::new("tag_ids", "invalid_id")),
        }
    }
    if ids.len() > MAX_ON_RECORD {
        return Err(DomainError::new("tag_ids", "too_many_tags"));
    }
    Ok(ids)
}

/// What putting `wanted` on a record that carries `current` changes: the tags added and the
/// tags taken off, each in the order given.
pub fn difference(current: &[TagId], wanted: &[TagId]) -> (Vec<TagId>, Vec<TagId>) {
    let added = wanted.iter().filter(|t| !current.contains(t)).copied().collect();
    let removed = current.iter().filter(|t| !wanted.contains(t)).copied().collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_one_whatever_its_case_in_either_alphabet() {
        let name = TagName::parse("  Hot   lead ").unwrap();
        assert_eq!(name.as_str(), "Hot lead");
        assert_eq!(TagName::parse("ВИП").unwrap().key(), TagName::parse("вип").unwrap().key());
        assert_eq!(TagName::parse(" ").unwrap_err().code, "required");
        assert_eq!(TagName::parse(&"x".repeat(51)).unwrap_err().code, "too_long");
        assert_eq!(TagName::parse(&"я".repeat(50)).unwrap().as_str().chars().count(), 50);
    }

    #[test]
    fn a_new_tag_gets_the_default_colour_and_an_edit_keeps_what_it_does_not_name() {
        let made = TagInput { name: Some("VIP".into()), ..TagInput::default() }.apply(None).unwrap();
        assert_eq!((made.color.as_str(), made.locked), (DEFAULT_COLOR, false));
        let tag = Tag { id: TagId(1), name: "VIP".into(), color: Color::parse("#dc2626").unwrap(), locked: true };
        let renamed = TagInput { name: Some("Gold".into()), ..TagInput::default() }.apply(Some(&tag)).unwrap();
        assert_eq!((renamed.name.as_str(), renamed.color.as_str(), renamed.locked), ("Gold", "#dc2626", true));
        let bad = TagInput { name: Some(String::new()), color: Some("red".into()), locked: None }.apply(None);
        let codes: Vec<_> = bad.unwrap_err().iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(codes, [("name", "required"), ("color", "invalid_color")]);
    }

    #[test]
    fn tag_ids_are_whole_numbers_each_once_and_not_too_many() {
        let ids = parse_tag_ids(&["3".into(), " 3".into(), "".into(), "7".into()]).unwrap();
        assert_eq!(ids, [TagId(3), TagId(7)]);
        assert_eq!(parse_tag_ids(&["x".into()]).unwrap_err().code, "invalid_id");
        assert_eq!(parse_tag_ids(&["-1".into()]).unwrap_err().code, "invalid_id");
        let many: Vec<String> = (1..=31).map(|n| n.to_string()).collect();
        assert_eq!(parse_tag_ids(&many).unwrap_err().code, "too_many_tags");
    }

    #[test]
    fn the_difference_names_what_is_added_and_taken_off() {
        let (added, removed) = difference(&[TagId(1), TagId(2)], &[TagId(2), TagId(3)]);
        assert_eq!((added, removed), (vec![TagId(3)], vec![TagId(1)]));
    }
}
