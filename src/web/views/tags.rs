//! Tags as pages show them: chips on records and cards (coloured by `data-color`, as the
//! content security policy refuses inline styles), the picker that puts them on a record, the
//! filter menus, and Settings → Tags, where admins keep the taxonomy.

use std::collections::HashMap;

use askama::Template;

use crate::domain::tag::{Tag, TagUse};
use crate::web::views::settings::TabLink;
use crate::web::views::{FormErrors, Shell};

/// A tag as a chip: its name in its colour, a lock when admins alone put it on.
#[derive(Debug, Clone)]
pub struct TagChip {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub locked: bool,
}

impl From<&Tag> for TagChip {
    fn from(t: &Tag) -> Self {
        TagChip { id: t.id.0, name: t.name.clone(), color: t.color.as_str().to_owned(), locked: t.locked }
    }
}

impl TagChip {
    pub fn of(tags: &[Tag]) -> Vec<TagChip> {
        tags.iter().map(TagChip::from).collect()
    }
}

/// One choice of a record's tag picker: a tag, whether the record carries it, and whether
/// the reader may change that (a locked tag is an admin's to put on or take off).
pub struct TagChoice {
    pub chip: TagChip,
    pub on: bool,
    pub fixed: bool,
}

/// The tag picker of a record's page: every tag of the tenant, those it carries ticked, the
/// locked ones fixed unless the reader may touch them (`services::tags::may_touch_locked`).
pub fn choices(all: &[Tag], carried: &[Tag], may_touch_locked: bool) -> Vec<TagChoice> {
    TagChip::of(all)
        .into_iter()
        .map(|chip| TagChoice {
            on: carried.iter().any(|c| c.id.0 == chip.id),
            fixed: chip.locked && !may_touch_locked,
            chip,
        })
        .collect()
}

/// A tag with how many records carry it, as the settings page lists it.
pub struct TagRow {
    pub chip: TagChip,
    pub clients: i64,
    pub companies: i64,
    pub deals: i64,
    pub chats: i64,
}

#[derive(Template)]
#[template(path = "settings/tags.html")]
pub struct TagsPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub tags: Vec<TagRow>,
    /// The form that was refused (`new`, or `tag-ID`), what was typed in it and why.
    pub failed: Option<Failed>,
}

pub struct Failed {
    pub form: String,
    pub typed: HashMap<String, String>,
    pub errors: FormErrors,
}

impl TagsPage {
    pub fn new(shell: Shell, tabs: Vec<TabLink>, usage: Vec<TagUse>, failed: Option<Failed>) -> Self {
        let tags = usage
            .into_iter()
            .map(|u| TagRow {
                chip: TagChip::from(&u.tag),
                clients: u.clients,
                companies: u.companies,
                deals: u.deals,
                chats: u.chats,
            })
            .collect();
        Self { shell, tabs, tags, failed }
    }

    /// What field `field` of form `form` shows: what was typed if it was refused, else `stored`.
    pub fn value(&self, form: &str, field: &str, stored: &str) -> String {
        match &self.failed {
            Some(f) if f.form == form => f.typed.get(field).cloned().unwrap_or_default(),
            _ => stored.to_owned(),
        }
    }

    /// Whether form `form`'s "locked" box is ticked: as sent if refused, else `stored`.
    pub fn locked(&self, form: &str, stored: bool) -> bool {
        match &self.failed {
            Some(f) if f.form == form => f.typed.contains_key("locked"),
            _ => stored,
        }
    }

    /// The message beside field `field` of form `form`, if it was refused for it.
    pub fn error(&self, form: &str, field: &str) -> Option<&'static str> {
        self.failed.as_ref().filter(|f| f.form == form).and_then(|f| f.errors.get(field))
    }

    /// "3 clients · 1 deal", what carries a tag, in the reader's language.
    pub fn used(&self, row: &TagRow) -> String {
        let tr = self.shell.tr;
        let parts: Vec<String> = [
            ("tags.used_clients", row.clients),
            ("tags.used_companies", row.companies),
            ("tags.used_deals", row.deals),
            ("tags.used_chats", row.chats),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(key, n)| tr.count(key, n))
        .collect();
        if parts.is_empty() { tr.t("tags.unused").to_owned() } else { parts.join(" · ") }
    }
}
