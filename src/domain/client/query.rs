//! What a search over live clients asks for: words, a creation window, an order and a page.

use std::str::FromStr;

use chrono::NaiveDate;

use crate::domain::DomainError;

/// Counts of matches stop past this: an exact count of a broad search at a million clients
/// costs far more than the page itself.
pub const COUNT_CAP: i64 = 500;

/// The order of a client list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientSort {
    /// Most recently changed first.
    #[default]
    Updated,
    /// By first name, then last name.
    Name,
}

impl ClientSort {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientSort::Updated => "updated",
            ClientSort::Name => "name",
        }
    }
}

/// `updated` or `name`; empty means the default.
impl FromStr for ClientSort {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "updated" => Ok(ClientSort::Updated),
            "name" => Ok(ClientSort::Name),
            _ => Err(DomainError::new("sort", "invalid_sort")),
        }
    }
}

/// A search over live clients.
#[derive(Debug, Clone, Default)]
pub struct ClientQuery {
    /// Matched against any part of the names, phone, email and PIN.
    pub q: Option<String>,
    pub created_from: Option<NaiveDate>,
    pub created_to: Option<NaiveDate>,
    pub sort: ClientSort,
    pub limit: i64,
    pub offset: i64,
}
