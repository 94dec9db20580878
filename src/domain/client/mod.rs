//! Clients: the people a tenant serves. `ClientInput` is what people type; `ClientFields` is
//! the same once every value is valid. The values themselves live in `values`.

pub mod import;
mod query;
mod values;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use super::company::CompanyId;
use super::custom_field::CustomValues;
use super::tag::Tag;
use super::{DomainError, Email, HomeCountry, UserId};
pub use query::{COUNT_CAP, ClientQuery, ClientSort, Total};
pub use values::{ContactType, ContactValue, Country, Gender, Passport, Phone, Pin, date_of_birth};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub i64);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ContactId(pub i64);

/// A client's display name: first, middle and last, as present.
pub fn full_name(first: &str, middle: Option<&str>, last: Option<&str>) -> String {
    [Some(first), middle, last].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// Optional free text: trimmed; empty means absent; at most `max` characters.
pub fn optional_text(field: &'static str, raw: Option<&str>, max: usize) -> Result<Option<String>, DomainError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(DomainError::new(field, "too_long")),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// An id kept as text, written to JSON as the number it is.
fn id_as_number<S: serde::Serializer>(id: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match id.as_deref().map(str::parse::<i64>) {
        Some(Ok(n)) => s.serialize_some(&n),
        Some(Err(_)) => s.serialize_some(id),
        None => s.serialize_none(),
    }
}

/// What people type into a client's form or send to the API, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ClientInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub middle_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub date_of_birth: Option<String>,
    pub gender: Option<String>,
    pub pin: Option<String>,
    pub passport_series: Option<String>,
    pub passport_number: Option<String>,
    pub comments: Option<String>,
    /// The company the client works at, by id (a number in JSON).
    #[serde(serialize_with = "id_as_number")]
    pub company_id: Option<String>,
    pub job_title: Option<String>,
    /// The colleague whose client this is, by id (a number in JSON).
    #[serde(serialize_with = "id_as_number")]
    pub owner_id: Option<String>,
    /// The tags the client is to carry, by id (`None` leaves them): not a field of the
    /// record's own, so neither in `FIELDS` nor in a document.
    #[serde(skip)]
    pub tag_ids: Option<Vec<String>>,
    /// Custom field values to set, by key (`None` leaves them): checked against the fields.
    #[serde(skip)]
    pub custom: Option<CustomValues>,
}

impl ClientInput {
    /// The names of a client's fields, in form and export order.
    pub const FIELDS: [&'static str; 15] = [
        "first_name",
        "last_name",
        "middle_name",
        "phone",
        "email",
        "address",
        "date_of_birth",
        "gender",
        "pin",
        "passport_series",
        "passport_number",
        "comments",
        "company_id",
        "job_title",
        "owner_id",
    ];

    /// The fields a sheet's column may fill: not a company or an owner by id, which a sheet
    /// from elsewhere cannot know (imported clients are their importer's).
    pub fn importable() -> impl Iterator<Item = &'static str> {
        Self::FIELDS.into_iter().filter(|f| !matches!(*f, "company_id" | "owner_id"))
    }

    /// Every field's text, in `FIELDS` order.
    pub fn values(&self) -> [Option<&str>; 15] {
        [
            &self.first_name,
            &self.last_name,
            &self.middle_name,
            &self.phone,
            &self.email,
            &self.address,
            &self.date_of_birth,
            &self.gender,
            &self.pin,
            &self.passport_series,
            &self.passport_number,
            &self.comments,
            &self.company_id,
            &self.job_title,
            &self.owner_id,
        ]
        .map(Option::as_deref)
    }

    /// A field's text by its name (one of `FIELDS`).
    pub fn get(&self, field: &str) -> Option<&str> {
        Self::FIELDS.iter().position(|f| *f == field).and_then(|i| self.values()[i])
    }

    /// `patch` laid over these fields: each field present in the patch (even as `Some("")`,
    /// which clears it) replaces this one.
    pub fn overlaid(&self, patch: &ClientInput) -> ClientInput {
        let mut out = self.clone();
        for (field, value) in Self::FIELDS.into_iter().zip(patch.values()) {
            if let Some(value) = value {
                *out.field_mut(field).expect("a field of ClientInput") = Some(value.to_owned());
            }
        }
        out
    }

    /// A field by its name, to set; `None` for a name not in `FIELDS`.
    pub fn field_mut(&mut self, field: &str) -> Option<&mut Option<String>> {
        Some(match field {
            "first_name" => &mut self.first_name,
            "last_name" => &mut self.last_name,
            "middle_name" => &mut self.middle_name,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "address" => &mut self.address,
            "date_of_birth" => &mut self.date_of_birth,
            "gender" => &mut self.gender,
            "pin" => &mut self.pin,
            "passport_series" => &mut self.passport_series,
            "passport_number" => &mut self.passport_number,
            "comments" => &mut self.comments,
            "company_id" => &mut self.company_id,
            "job_title" => &mut self.job_title,
            "owner_id" => &mut self.owner_id,
            _ => return None,
        })
    }
}

/// Valid fields as text again: what a form shows, what a patch is laid over, what an export
/// writes. `ClientFields::parse` of the result gives the same fields back.
impl From<&ClientFields> for ClientInput {
    fn from(c: &ClientFields) -> Self {
        let text = |v: Option<&str>| v.map(str::to_owned);
        ClientInput {
            first_name: Some(c.first_name.clone()),
            last_name: c.last_name.clone(),
            middle_name: c.middle_name.clone(),
            phone: text(c.phone.as_ref().map(Phone::as_str)),
            email: text(c.email.as_ref().map(Email::as_str)),
            address: c.address.clone(),
            date_of_birth: c.date_of_birth.map(|d| d.format("%Y-%m-%d").to_string()),
            gender: text(c.gender.map(Gender::as_str)),
            pin: text(c.pin.as_ref().map(Pin::as_str)),
            passport_series: c.passport.as_ref().and_then(|p| p.series.clone()),
            passport_number: c.passport.as_ref().map(|p| p.number.clone()),
            comments: c.comments.clone(),
            company_id: c.company_id.map(|id| id.0.to_string()),
            job_title: c.job_title.clone(),
            owner_id: c.owner_id.map(|id| id.0.to_string()),
            tag_ids: None,
            custom: None,
        }
    }
}

/// A client's fields, every one valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFields {
    pub first_name: String,
    pub last_name: Option<String>,
    pub middle_name: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub gender: Option<Gender>,
    pub pin: Option<Pin>,
    pub passport: Option<Passport>,
    pub comments: Option<String>,
    /// The company the client works at (that the tenant has it is checked by the service).
    pub company_id: Option<CompanyId>,
    pub job_title: Option<String>,
    /// The colleague whose client this is (that they may own records is checked by the service).
    pub owner_id: Option<UserId>,
}

impl ClientFields {
    /// Checks every field at once, so a form can show all its errors together.
    pub fn parse(input: &ClientInput, today: NaiveDate, home: Option<HomeCountry>) -> Result<Self, Vec<DomainError>> {
        fn keep<T>(errors: &mut Vec<DomainError>, r: Result<T, DomainError>) -> Option<T> {
            r.map_err(|e| errors.push(e)).ok()
        }
        let mut errors = Vec::new();
        let e = &mut errors;
        let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);

        let first_name = keep(
            e,
            match present(&input.first_name) {
                None => Err(DomainError::new("first_name", "required")),
                Some(n) if n.chars().count() > 100 => Err(DomainError::new("first_name", "too_long")),
                Some(n) => Ok(n),
            },
        );
        let last_name = keep(e, optional_text("last_name", input.last_name.as_deref(), 100)).flatten();
        let middle_name = keep(e, optional_text("middle_name", input.middle_name.as_deref(), 100)).flatten();
        let phone = present(&input.phone).and_then(|p| keep(e, Phone::parse_in(&p, home)));
        let email = present(&input.email).and_then(|v| keep(e, Email::parse(&v)));
        let address = keep(e, optional_text("address", input.address.as_deref(), 500)).flatten();
        let date_of_birth = present(&input.date_of_birth).and_then(|d| keep(e, date_of_birth(&d, today)));
        let gender = present(&input.gender).and_then(|g| keep(e, g.parse::<Gender>()));
        let country = phone.as_ref().and_then(Phone::country);
        let pin = present(&input.pin).and_then(|p| keep(e, Pin::parse(&p, country)));
        let passport = keep(
            e,
            Passport::parse(
                input.passport_series.as_deref().unwrap_or(""),
                input.passport_number.as_deref().unwrap_or(""),
            ),
        )
        .flatten();
        let comments = keep(e, optional_text("comments", input.comments.as_deref(), 5000)).flatten();
        let company_id =
            keep(e, super::parse_id("company_id", input.company_id.as_deref().unwrap_or(""))).flatten().map(CompanyId);
        let job_title = keep(e, optional_text("job_title", input.job_title.as_deref(), 200)).flatten();
        let owner_id =
            keep(e, super::parse_id("owner_id", input.owner_id.as_deref().unwrap_or(""))).flatten().map(UserId);

        match first_name {
            Some(first_name) if errors.is_empty() => Ok(Self {
                first_name,
                last_name,
                middle_name,
                phone,
                email,
                address,
                date_of_birth,
                gender,
                pin,
                passport,
                comments,
                company_id,
                job_title,
                owner_id,
            }),
            _ => Err(errors),
        }
    }

    /// Fields read back from storage, checked by the rules they were written under (a date of
    /// birth is not compared with today: it was not in the future when it was saved).
    pub fn parse_stored(stored: &ClientInput) -> Result<Self, Vec<DomainError>> {
        Self::parse(stored, NaiveDate::MAX, None)
    }

    pub fn full_name(&self) -> String {
        full_name(&self.first_name, self.middle_name.as_deref(), self.last_name.as_deref())
    }

    /// The names of the fields that differ from `before`, in field order (values compared
    /// normalised: a phone typed with spaces is the same phone).
    pub fn changed_from(&self, before: &ClientFields) -> Vec<&'static str> {
        let (after, before) = (ClientInput::from(self), ClientInput::from(before));
        ClientInput::FIELDS
            .into_iter()
            .zip(after.values().into_iter().zip(before.values()))
            .filter(|(_, (a, b))| a != b)
            .map(|(field, _)| field)
            .collect()
    }
}

/// A client as stored: valid fields and when the record was made, last changed and archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub fields: ClientFields,
    /// The tags it carries, by name.
    pub tags: Vec<Tag>,
    /// Its live custom fields' values, by key.
    pub custom: CustomValues,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Client {
    pub fn full_name(&self) -> String {
        self.fields.full_name()
    }

    /// The fields as text, for a form or a document.
    pub fn input(&self) -> ClientInput {
        ClientInput::from(&self.fields)
    }
}

/// A client as a document (the data export): its id, every field as text by its input name,
/// its tags' names and the record's times.
impl serde::Serialize for Client {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Document<'a> {
            id: ClientId,
            #[serde(flatten)]
            fields: ClientInput,
            tags: Vec<&'a str>,
            created_at: &'a DateTime<Utc>,
            updated_at: &'a DateTime<Utc>,
            archived_at: &'a Option<DateTime<Utc>>,
        }
        Document {
            id: self.id,
            fields: self.input(),
            tags: self.tags.iter().map(|t| t.name.as_str()).collect(),
            created_at: &self.created_at,
            updated_at: &self.updated_at,
            archived_at: &self.archived_at,
        }
        .serialize(s)
    }
}

/// One way to reach a client: a phone, an email, a Telegram account…
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub client_id: ClientId,
    pub value: ContactValue,
}

impl Contact {
    pub fn kind(&self) -> ContactType {
        self.value.kind()
    }
}

impl serde::Serialize for Contact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Document<'a> {
            id: ContactId,
            client_id: ClientId,
            #[serde(rename = "type")]
            kind: &'a str,
            value: &'a str,
        }
        Document { id: self.id, client_id: self.client_id, kind: self.kind().as_str(), value: self.value.as_str() }
            .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn every_invalid_field_is_named_at_once() {
        let input = ClientInput {
            first_name: Some("  ".into()),
            phone: Some("12".into()),
            email: Some("nope".into()),
            date_of_birth: Some("2999-01-01".into()),
            gender: Some("robot".into()),
            passport_series: Some("AA".into()),
            ..Default::default()
        };
        let errors = ClientFields::parse(&input, today(), None).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["first_name", "phone", "email", "date_of_birth", "gender", "passport_number"]);
    }

    #[test]
    fn a_valid_client_is_parsed_with_its_values_normalised() {
        let input = ClientInput {
            first_name: Some(" Ann ".into()),
            last_name: Some("Lee".into()),
            phone: Some("+998 90 123 45 67".into()),
            passport_series: Some("aa".into()),
            passport_number: Some("1234567".into()),
            ..Default::default()
        };
        let c = ClientFields::parse(&input, today(), None).unwrap();
        assert_eq!(c.full_name(), "Ann Lee");
        assert_eq!(c.phone.unwrap().as_str(), "+998901234567");
        assert_eq!(c.passport.unwrap().series.as_deref(), Some("AA"));
    }

    #[test]
    fn valid_fields_read_back_as_text_parse_to_the_same_fields() {
        let input = ClientInput {
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            middle_name: Some("Mae".into()),
            phone: Some("998 90 123 45 67".into()),
            email: Some("Ann@Example.com".into()),
            address: Some("Navoi 1".into()),
            date_of_birth: Some("1990-05-01".into()),
            gender: Some("female".into()),
            pin: Some("3010 1900 1234 56".into()),
            passport_series: Some("aa".into()),
            passport_number: Some("1234567".into()),
            comments: Some("Calls after six".into()),
            company_id: Some("7".into()),
            job_title: Some("Buyer".into()),
            owner_id: Some("3".into()),
            tag_ids: None,
            custom: None,
        };
        let fields = ClientFields::parse(&input, today(), None).unwrap();
        let text = ClientInput::from(&fields);
        assert!(text.values().iter().all(Option::is_some), "{text:?}");
        assert_eq!(text.phone.as_deref(), Some("+998901234567"));
        assert_eq!(ClientFields::parse_stored(&text).unwrap(), fields);
    }

    #[test]
    fn fields_are_found_by_their_names_in_field_order() {
        let mut input = ClientInput::default();
        for name in ClientInput::FIELDS {
            *input.field_mut(name).unwrap() = Some(name.to_owned());
        }
        assert_eq!(input.values(), ClientInput::FIELDS.map(Some));
        assert_eq!(input.get("pin"), Some("pin"));
        assert!(input.field_mut("id").is_none());
        assert_eq!(input.get("id"), None);
    }

    #[test]
    fn a_patch_replaces_the_fields_it_has_and_changes_are_named_after_normalising() {
        let before = ClientInput {
            first_name: Some("Ann".into()),
            phone: Some("+998901234567".into()),
            comments: Some("old".into()),
            ..Default::default()
        };
        let patch = ClientInput {
            phone: Some("998 90 123 45 67".into()),
            comments: Some(String::new()),
            email: Some("ann@example.com".into()),
            ..Default::default()
        };
        let after = before.overlaid(&patch);
        assert_eq!(after.first_name.as_deref(), Some("Ann"));
        assert_eq!(after.comments.as_deref(), Some(""));
        let (before, after) =
            (ClientFields::parse(&before, today(), None).unwrap(), ClientFields::parse(&after, today(), None).unwrap());
        assert_eq!(after.changed_from(&before), ["email", "comments"]);
    }

    #[test]
    fn a_stored_date_of_birth_is_not_compared_with_today() {
        let stored = ClientInput {
            first_name: Some("Ann".into()),
            date_of_birth: Some("2026-11-23".into()),
            ..Default::default()
        };
        assert!(ClientFields::parse(&stored, today(), None).is_err());
        assert!(ClientFields::parse_stored(&stored).is_ok());
    }
}
