//! Companies: the businesses a tenant deals with. People (clients) work at one, with a job
//! title; deals may be with one. Here: the types, and the input as typed or sent, checked
//! field by field.

use chrono::{DateTime, Utc};

use super::client::{Phone, optional_text};
use super::custom_field::CustomValues;
use super::tag::{Tag, TagId};
use super::{DomainError, Email, HomeCountry, Named, UserId, parse_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CompanyId(pub i64);

impl std::fmt::Display for CompanyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Longest name, in characters.
pub const MAX_NAME: usize = 200;

/// A company's web address: http or https, with a host that has a dot; typed without a scheme
/// it is taken as https (`example.com` → `https://example.com/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website(String);

impl Website {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::new("website", "invalid_url");
        let t = raw.trim();
        if t.chars().count() > 300 {
            return Err(DomainError::new("website", "too_long"));
        }
        let with_scheme = if t.contains("://") { t.to_owned() } else { format!("https://{t}") };
        let url = url::Url::parse(&with_scheme).map_err(|_| bad())?;
        let host_ok = url.host_str().is_some_and(|h| h.contains('.') && !h.starts_with('.') && !h.ends_with('.'));
        if !matches!(url.scheme(), "http" | "https") || !host_ok || !url.username().is_empty() {
            return Err(bad());
        }
        let text = url.to_string();
        if text.len() > 300 {
            return Err(DomainError::new("website", "too_long"));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A company as stored, with the names around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: CompanyId,
    pub fields: CompanyFields,
    pub owner: Option<Named<UserId>>,
    /// How many live clients work there.
    pub people: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its tags, by name.
    pub tags: Vec<Tag>,
    /// Its live custom fields' values, by key.
    pub custom: CustomValues,
}

/// Someone who works at a company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: super::ClientId,
    pub name: String,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A company's fields as typed in a form or sent to the API, before they are checked. For an
/// edit, an absent field (`None`) keeps its value and an empty one clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompanyInput {
    pub name: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub comments: Option<String>,
    pub owner_id: Option<String>,
    /// The tags it is to carry, as ids (`None`: as they are).
    pub tag_ids: Option<Vec<String>>,
    /// Custom field values to set, by key (`None` leaves them).
    pub custom: Option<CustomValues>,
}

/// Trimmed text, or none when that is empty.
fn present(v: &str) -> Option<&str> {
    Some(v.trim()).filter(|t| !t.is_empty())
}

impl CompanyInput {
    /// The names of a company's fields, in form and export order.
    pub const FIELDS: [&'static str; 8] =
        ["name", "website", "phone", "email", "address", "tax_id", "comments", "owner_id"];

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "name" => &mut self.name,
            "website" => &mut self.website,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "address" => &mut self.address,
            "tax_id" => &mut self.tax_id,
            "comments" => &mut self.comments,
            "owner_id" => &mut self.owner_id,
            _ => return None,
        })
    }

    /// The fields present, by name, in `FIELDS` order.
    pub fn into_pairs(mut self) -> Vec<(&'static str, String)> {
        Self::FIELDS.into_iter().filter_map(|f| self.field_mut(f).and_then(Option::take).map(|v| (f, v))).collect()
    }

    /// The fields of a company as they are after this input: `current` for an edit, none for
    /// a new one. Every field at fault is named at once; that the owner exists is checked by
    /// the service. `home` is where a phone typed without a country code belongs.
    pub fn apply(
        &self,
        current: Option<&CompanyFields>,
        home: Option<HomeCountry>,
    ) -> Result<CompanyFields, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut f = current.cloned().unwrap_or_default();
        let mut keep = |r: Result<(), DomainError>| {
            if let Err(e) = r {
                errors.push(e)
            }
        };
        if let Some(raw) = &self.name {
            keep(optional_text("name", Some(raw), MAX_NAME).map(|n| f.name = n.unwrap_or_default()));
        }
        if f.name.is_empty() {
            keep(Err(DomainError::new("name", "required")));
        }
        if let Some(raw) = &self.website {
            keep(present(raw).map(Website::parse).transpose().map(|w| f.website = w));
        }
        if let Some(raw) = &self.phone {
            keep(present(raw).map(|p| Phone::parse_in(p, home)).transpose().map(|p| f.phone = p));
        }
        if let Some(raw) = &self.email {
            keep(present(raw).map(Email::parse).transpose().map(|e| f.email = e));
        }
        if let Some(raw) = &self.address {
            keep(optional_text("address", Some(raw), 500).map(|a| f.address = a));
        }
        if let Some(raw) = &self.tax_id {
            keep(optional_text("tax_id", Some(raw), 50).map(|t| f.tax_id = t));
        }
        if let Some(raw) = &self.comments {
            keep(optional_text("comments", Some(raw), 5000).map(|c| f.comments = c));
        }
        if let Some(raw) = &self.owner_id {
            keep(parse_id("owner_id", raw).map(|o| f.owner_id = o.map(UserId)));
        }
        if errors.is_empty() { Ok(f) } else { Err(errors) }
    }
}

/// A company's own fields, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyFields {
    pub name: String,
    pub website: Option<Website>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub comments: Option<String>,
    pub owner_id: Option<UserId>,
}

impl CompanyFields {
    /// The names of the fields that differ from `before`, in field order.
    pub fn changed_from(&self, before: &CompanyFields) -> Vec<&'static str> {
        let (a, b) = (CompanyInput::from(self), CompanyInput::from(before));
        let pairs = [
            a.name == b.name,
            a.website == b.website,
            a.phone == b.phone,
            a.email == b.email,
            a.address == b.address,
            a.tax_id == b.tax_id,
            a.comments == b.comments,
            a.owner_id == b.owner_id,
        ];
        CompanyInput::FIELDS.into_iter().zip(pairs).filter(|(_, same)| !same).map(|(f, _)| f).collect()
    }
}

/// Valid fields as text again: what a form shows and what the API returns.
impl From<&CompanyFields> for CompanyInput {
    fn from(c: &CompanyFields) -> Self {
        CompanyInput {
            name: Some(c.name.clone()),
            website: c.website.as_ref().map(|w| w.as_str().to_owned()),
            phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: c.email.as_ref().map(|e| e.as_str().to_owned()),
            address: c.address.clone(),
            tax_id: c.tax_id.clone(),
            comments: c.comments.clone(),
            owner_id: c.owner_id.map(|o| o.0.to_string()),
            tag_ids: None,
            custom: None,
        }
    }
}

/// Which companies a list shows, and in what order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyFilter {
    /// Words of the name, email, phone, website or tax id.
    pub q: Option<String>,
    pub owner_id: Option<UserId>,
    /// Most recently changed first, instead of by name.
    pub recent: bool,
    /// Companies that carry this tag.
    pub tag_id: Option<TagId>,
    /// Companies whose custom values contain these (as `CustomFieldService::filter` reads
    /// `custom.KEY=value`); none from `parse`.
    pub custom: CustomValues,
}

impl CompanyFilter {
    /// The filters of a query string (`q`, `owner_id`, `tag_id`, `sort=name|updated`), each bad
    /// one named.
    pub fn parse(params: &std::collections::HashMap<String, String>) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        let q = params.get("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            errors.push(DomainError::new("q", "too_long"));
        }
        let owner_id = match params.get("owner_id").map(|o| parse_id("owner_id", o)) {
            Some(Ok(o)) => o.map(UserId),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let tag_id = match params.get("tag_id").map(|t| parse_id("tag_id", t)) {
            Some(Ok(t)) => t.map(TagId),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let recent = match params.get("sort").map(|s| s.trim()).unwrap_or("") {
            "" | "name" => false,
            "updated" => true,
            _ => {
                errors.push(DomainError::new("sort", "invalid_choice"));
                false
            }
        };
        if errors.is_empty() {
            Ok(Self { q, owner_id, recent, tag_id, custom: CustomValues::new() })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> CompanyInput {
        let mut i = CompanyInput::default();
        for (k, v) in pairs {
            *i.field_mut(k).unwrap() = Some((*v).to_owned());
        }
        i
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let errors = input(&[
            ("name", " "),
            ("website", "not a site"),
            ("phone", "12"),
            ("email", "nope"),
            ("owner_id", "x"),
            ("tax_id", &"9".repeat(51)),
        ])
        .apply(None, None)
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "website", "phone", "email", "tax_id", "owner_id"]);
    }

    #[test]
    fn values_are_normalised_and_a_patch_keeps_what_it_does_not_name() {
        let f = input(&[
            ("name", " Acme LLC "),
            ("website", "acme.uz"),
            ("phone", "+998 71 200 00 00"),
            ("email", "Info@Acme.uz"),
        ])
        .apply(None, None)
        .unwrap();
        assert_eq!(f.name, "Acme LLC");
        assert_eq!(f.website.as_ref().unwrap().as_str(), "https://acme.uz/");
        assert_eq!(f.phone.as_ref().unwrap().as_str(), "+998712000000");
        let g = input(&[("website", ""), ("comments", "Pays late")]).apply(Some(&f), None).unwrap();
        assert_eq!(g.name, "Acme LLC");
        assert_eq!(g.website, None);
        assert_eq!(g.comments.as_deref(), Some("Pays late"));
        assert_eq!(g.changed_from(&f), ["website", "comments"]);
    }

    #[test]
    fn only_web_addresses_with_a_host_are_websites() {
        for bad in ["ftp://acme.uz", "localhost", "http://", "https://user@acme.uz", "acme."] {
            assert!(Website::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Website::parse("http://acme.uz/about").unwrap().as_str(), "http://acme.uz/about");
    }
}
