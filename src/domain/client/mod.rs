//! Clients: the people a tenant serves. `ClientInput` is what people type; `ClientFields` is
//! the same once every value is valid. The values themselves live in `values`.

pub mod import;
mod values;

use std::fmt;

use chrono::NaiveDate;

use super::{DomainError, Email};
pub use values::{ContactType, ContactValue, Country, Gender, Passport, Phone, Pin, date_of_birth};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub i64);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
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
}

impl ClientInput {
    /// The names of a client's fields, in form and export order.
    pub const FIELDS: [&'static str; 12] = [
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
    ];
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
}

impl ClientFields {
    /// Checks every field at once, so a form can show all its errors together.
    pub fn parse(input: &ClientInput, today: NaiveDate) -> Result<Self, Vec<DomainError>> {
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
        let phone = present(&input.phone).and_then(|p| keep(e, Phone::parse(&p)));
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
            }),
            _ => Err(errors),
        }
    }

    pub fn full_name(&self) -> String {
        full_name(&self.first_name, self.middle_name.as_deref(), self.last_name.as_deref())
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
        let errors = ClientFields::parse(&input, today()).unwrap_err();
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
        let c = ClientFields::parse(&input, today()).unwrap();
        assert_eq!(c.full_name(), "Ann Lee");
        assert_eq!(c.phone.unwrap().as_str(), "+998901234567");
        assert_eq!(c.passport.unwrap().series.as_deref(), Some("AA"));
    }
}
