//! What a search over live clients asks for: words, a creation window, an order and a page.

use std::str::FromStr;

use chrono::NaiveDate;

use crate::domain::DomainError;
use crate::domain::custom_field::CustomValues;
use crate::domain::tag::TagId;

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
    /// Only clients carrying this tag.
    pub tag_id: Option<TagId>,
    /// Only clients whose custom values contain these (`{"tier": "Gold"}`; a multi-select's
    /// as a list of the options wanted), as `CustomFieldService::filter` reads them.
    pub custom: CustomValues,
    pub sort: ClientSort,
    pub limit: i64,
    pub offset: i64,
}

/// How many rows a search matched: counted to the end, or (when counting would cost more than
/// the page) a lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    AtLeast(i64),
}

impl Total {
    pub fn count(self) -> i64 {
        match self {
            Total::Exact(n) | Total::AtLeast(n) => n,
        }
    }

    pub fn is_exact(self) -> bool {
        matches!(self, Total::Exact(_))
    }

    /// Whether a page after `page` (of `per_page`, which returned `shown` rows) exists, or may.
    pub fn has_next(self, page: i64, per_page: i64, shown: usize) -> bool {
        match self {
            Total::Exact(n) => page * per_page < n,
            Total::AtLeast(n) => page * per_page < n || shown as i64 == per_page,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Total;

    #[test]
    fn a_next_page_exists_within_an_exact_total_and_may_past_a_lower_bound() {
        assert!(Total::Exact(26).has_next(1, 25, 25));
        assert!(!Total::Exact(25).has_next(1, 25, 25));
        assert!(Total::AtLeast(30).has_next(1, 25, 25));
        assert!(Total::AtLeast(30).has_next(2, 25, 25), "a full page may have a next one");
        assert!(!Total::AtLeast(30).has_next(2, 25, 3));
    }
}
