//! A client, a company or a deal: the records that carry notes, tasks and a timeline.

use super::company::CompanyId;
use super::deal::DealId;
use super::{ClientId, DomainError};

/// One record a note, a task or a timeline entry belongs to. As JSON: `{"entity": "deal", "id": 7}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "entity", content = "id", rename_all = "snake_case")]
pub enum RecordRef {
    Client(ClientId),
    Company(CompanyId),
    Deal(DealId),
}

impl RecordRef {
    /// `client`, `company` or `deal`: as paths and JSON name it.
    pub fn entity(self) -> &'static str {
        match self {
            RecordRef::Client(_) => "client",
            RecordRef::Company(_) => "company",
            RecordRef::Deal(_) => "deal",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            RecordRef::Client(ClientId(id)) | RecordRef::Company(CompanyId(id)) | RecordRef::Deal(DealId(id)) => id,
        }
    }

    /// The record's page.
    pub fn url(self) -> String {
        match self {
            RecordRef::Client(id) => format!("/crm/clients/{}", id.0),
            RecordRef::Company(id) => format!("/crm/companies/{}", id.0),
            RecordRef::Deal(id) => format!("/crm/deals/{}", id.0),
        }
    }

    /// The three columns a row keeps it in (`client_id`, `company_id`, `deal_id`): one set.
    pub fn columns(self) -> (Option<i64>, Option<i64>, Option<i64>) {
        match self {
            RecordRef::Client(id) => (Some(id.0), None, None),
            RecordRef::Company(id) => (None, Some(id.0), None),
            RecordRef::Deal(id) => (None, None, Some(id.0)),
        }
    }

    /// The fields input names a record by: `client_id`, `company_id`, `deal_id`.
    pub const ID_FIELDS: [&'static str; 3] = ["client_id", "company_id", "deal_id"];

    /// The record input field `field` (one of `ID_FIELDS`) names by `id`.
    pub fn named(field: &str, id: i64) -> Option<Self> {
        match field {
            "client_id" => Some(RecordRef::Client(ClientId(id))),
            "company_id" => Some(RecordRef::Company(CompanyId(id))),
            "deal_id" => Some(RecordRef::Deal(DealId(id))),
            _ => None,
        }
    }

    /// The record a row's three columns name; `None` when they name none, or more than one.
    pub fn from_columns(client: Option<i64>, company: Option<i64>, deal: Option<i64>) -> Option<Self> {
        match (client, company, deal) {
            (Some(id), None, None) => Some(RecordRef::Client(ClientId(id))),
            (None, Some(id), None) => Some(RecordRef::Company(CompanyId(id))),
            (None, None, Some(id)) => Some(RecordRef::Deal(DealId(id))),
            _ => None,
        }
    }
}

/// Text a person writes (a note, a comment, a task's description): trimmed, not empty, at
/// most `max` characters.
pub fn parse_text(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(DomainError::new(field, "required"));
    }
    if text.chars().count() > max {
        return Err(DomainError::new(field, "too_long"));
    }
    Ok(text.to_owned())
}
