//! Saved views: a list's filters and order kept under a name, private or shared with the tenant.

use super::bulk::BulkEntity;
use super::tag::TagName;
use super::{DomainError, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ViewId(pub i64);

/// Longest query a view keeps, in bytes.
pub const MAX_QUERY: usize = 2000;

#[derive(Debug, Clone)]
pub struct SavedView {
    pub id: ViewId,
    pub user_id: UserId,
    /// Which list it is of.
    pub entity: BulkEntity,
    pub name: String,
    /// The list's query string, without a page.
    pub query: String,
    pub shared: bool,
}

/// A view's checked fields.
#[derive(Debug, Clone)]
pub struct ViewFields {
    pub entity: BulkEntity,
    pub name: TagName,
    pub query: String,
    pub shared: bool,
}

impl ViewFields {
    /// A view of list `entity` named `name`, of the list's query string `query` (a leading `?`
    /// and any `page` are dropped); every field at fault at once.
    pub fn parse(entity: &str, name: &str, query: &str, shared: bool) -> Result<Self, Vec<DomainError>> {
        let entity = BulkEntity::parse(entity);
        let name = TagName::parse(name);
        let kept: Vec<(String, String)> = form_urlencoded::parse(query.trim().trim_start_matches('?').as_bytes())
            .filter(|(k, v)| k != "page" && !v.is_empty())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
        let query = if query.len() > MAX_QUERY { Err(DomainError::new("query", "too_long")) } else { Ok(query) };
        match (entity, name, query) {
            (Ok(entity), Ok(name), Ok(query)) => Ok(Self { entity, name, query, shared }),
            (e, n, q) => Err([e.err(), n.err(), q.err()].into_iter().flatten().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_keeps_the_filters_but_not_the_page() {
        let v =
            ViewFields::parse("clients", " Gold in Tashkent ", "?q=tash&page=3&custom.tier=Gold&from=", true).unwrap();
        assert_eq!(
            (v.name.as_str(), v.query.as_str(), v.shared),
            ("Gold in Tashkent", "q=tash&custom.tier=Gold", true)
        );
        let errors = ViewFields::parse("people", "", "", false).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(fields, [("entity", "invalid_entity"), ("name", "required")]);
    }
}
