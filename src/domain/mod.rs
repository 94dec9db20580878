//! Pure types and rules of the CRM: no I/O, no framework types. A value of a type here is valid by construction.

pub mod activity;
pub mod attachment;
pub mod audit;
pub mod bulk;
pub mod channel;
pub mod chat;
pub mod client;
pub mod company;
pub mod country;
pub mod csv;
pub mod currency;
pub mod custom_field;
pub mod deal;
pub mod email;
pub mod events;
pub mod locale;
pub mod message_template;
pub mod money;
pub mod note;
pub mod notification;
pub mod permission;
pub mod pipeline;
pub mod principal;
pub mod record;
pub mod saved_view;
pub mod settings;
pub mod tag;
pub mod task;
pub mod tenant;
pub mod time_zone;
pub mod user;

pub use client::{
    Client, ClientFields, ClientId, ClientInput, ClientQuery, ClientSort, Contact, ContactId, ContactType,
    ContactValue, Gender, Phone,
};
pub use country::HomeCountry;
pub use currency::Currency;
pub use email::Email;
pub use events::DomainEvent;
pub use locale::Locale;
pub use permission::{Permission, PermissionSet, Role};
pub use principal::{Actor, Principal};
pub use tenant::{TenantId, TenantName};
pub use time_zone::TimeZone;
pub use user::{Password, PersonName, UserId};

/// Invalid input, naming the field it came from so a form or a JSON error can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {code}")]
pub struct DomainError {
    /// The input field, e.g. `email`.
    pub field: &'static str,
    /// A stable machine code that is also the i18n key suffix, e.g. `invalid_email`.
    pub code: &'static str,
    /// The item of a list the field belongs to, e.g. (`stages`, 2) for `stages[2].name`.
    pub item: Option<(&'static str, usize)>,
    /// The key within the field, for a field made of keyed values: `tier` in `custom.tier`.
    pub key: Option<String>,
}

/// A record another one refers to, with the name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named<Id> {
    pub id: Id,
    pub name: String,
}

/// A record's id as text (a positive whole number); empty means absent.
pub fn parse_id(field: &'static str, raw: &str) -> Result<Option<i64>, DomainError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>().ok().filter(|i| *i > 0).map(Some).ok_or(DomainError::new(field, "invalid_id"))
}

/// A calendar date typed as `YYYY-MM-DD`; empty means absent.
pub fn parse_date(field: &'static str, raw: &str) -> Result<Option<chrono::NaiveDate>, DomainError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(Some).map_err(|_| DomainError::new(field, "invalid_date"))
}

/// A moment typed as RFC 3339 (`2026-12-31T09:00:00+05:00`), in UTC; empty means absent.
pub fn parse_datetime(field: &'static str, raw: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, DomainError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .map_err(|_| DomainError::new(field, "invalid_datetime"))
}

impl DomainError {
    pub fn new(field: &'static str, code: &'static str) -> Self {
        Self { field, code, item: None, key: None }
    }

    /// The same error, about the value of `key` within the field (`custom.tier`).
    pub fn at_key(self, key: &str) -> Self {
        Self { key: Some(key.to_owned()), ..self }
    }

    /// The same error, about item `index` of the list `list`.
    pub fn of_item(self, list: &'static str, index: usize) -> Self {
        Self { item: Some((list, index)), ..self }
    }

    /// Where the value was, as a JSON error names it: `name`, or `stages[2].name`.
    pub fn path(&self) -> String {
        let field = match &self.key {
            Some(key) => format!("{}.{key}", self.field),
            None => self.field.to_owned(),
        };
        match self.item {
            Some((list, index)) => format!("{list}[{index}].{field}"),
            None => field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_is_read_with_its_offset_and_kept_in_utc() {
        let t = parse_datetime("send_at", "2026-12-31T09:00:00+05:00").unwrap().unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-31T04:00:00+00:00");
        assert_eq!(parse_datetime("send_at", "  "), Ok(None));
        assert_eq!(parse_datetime("send_at", "tomorrow").unwrap_err().code, "invalid_datetime");
    }
}
