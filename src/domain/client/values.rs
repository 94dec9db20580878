//! The values a client's profile is made of, each parsed from what people type: phones,
//! tax ids, passports, genders, dates of birth, and contacts normalised per type.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::domain::{DomainError, Email, HomeCountry};

/// A phone number in E.164 (`+998901234567`), from what people type: spaces, dashes, dots and
/// brackets are dropped, a leading `00` becomes `+`. Without `+` or `00`, a number of 10 to 15
/// digits is taken to start with its country code (people write `998 90 …`); a shorter one is
/// refused with "include the country code", since guessing the country would be wrong half the time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// An international number: with `+` or `00`, or ten digits and more.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::parse_in(raw, None)
    }

    /// As `parse`, and a number written as people write it at `home` ("90 123 45 67" in
    /// Uzbekistan) gains that country's code.
    pub fn parse_in(raw: &str, home: Option<HomeCountry>) -> Result<Self, DomainError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DomainError::new("phone", "required"));
        }
        let mut digits = String::with_capacity(raw.len());
        let mut plus = false;
        for (i, c) in raw.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(DomainError::new("phone", "invalid_phone")),
            }
        }
        if !plus && let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_owned();
            plus = true;
        }
        if !plus && let Some(international) = home.and_then(|h| h.international(&digits)) {
            digits = international;
            plus = true;
        }
        if !plus && digits.len() < 10 {
            return Err(DomainError::new("phone", "phone_needs_country_code"));
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(DomainError::new("phone", "invalid_phone"));
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country, for the few whose tax-id rules we check.
    pub fn country(&self) -> Option<Country> {
        let n = &self.0[1..];
        if n.starts_with("998") {
            Some(Country::Uzbekistan)
        } else if n.starts_with("77") {
            Some(Country::Kazakhstan)
        } else if n.starts_with('7') {
            Some(Country::Russia)
        } else {
            None
        }
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    Uzbekistan,
    Kazakhstan,
    Russia,
}

/// A personal tax id: digits only (spaces dropped); 14 digits in Uzbekistan (PINFL), 12 in
/// Kazakhstan (IIN) and Russia (a person's INN); elsewhere 4 to 20.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pin(String);

impl Pin {
    pub fn parse(raw: &str, country: Option<Country>) -> Result<Self, DomainError> {
        let pin: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if pin.is_empty() {
            return Err(DomainError::new("pin", "required"));
        }
        if !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::new("pin", "pin_digits_only"));
        }
        let ok = match country {
            Some(Country::Uzbekistan) => pin.len() == 14,
            Some(Country::Kazakhstan) | Some(Country::Russia) => pin.len() == 12,
            None => (4..=20).contains(&pin.len()),
        };
        if !ok {
            let code = match country {
                Some(Country::Uzbekistan) => "pin_length_uz",
                Some(_) => "pin_length_12",
                None => "invalid_pin",
            };
            return Err(DomainError::new("pin", code));
        }
        Ok(Self(pin))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Passport series (letters or digits, upper-cased, up to 5) and number (4 to 12 letters or
/// digits), as printed in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passport {
    pub series: Option<String>,
    pub number: String,
}

impl Passport {
    pub fn parse(series: &str, number: &str) -> Result<Option<Self>, DomainError> {
        let clean =
            |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect() };
        let (series, number) = (clean(series), clean(number));
        if series.is_empty() && number.is_empty() {
            return Ok(None);
        }
        if number.is_empty() {
            return Err(DomainError::new("passport_number", "required"));
        }
        if series.chars().count() > 5 || !series.chars().all(char::is_alphanumeric) {
            return Err(DomainError::new("passport_series", "invalid_passport_series"));
        }
        if !(4..=12).contains(&number.chars().count()) || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::new("passport_number", "invalid_passport_number"));
        }
        Ok(Some(Self { series: (!series.is_empty()).then_some(series), number }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
    Other,
}

impl Gender {
    pub const ALL: [Gender; 3] = [Gender::Male, Gender::Female, Gender::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
        }
    }
}

impl FromStr for Gender {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Gender::ALL.into_iter().find(|g| g.as_str() == s.trim()).ok_or(DomainError::new("gender", "invalid_gender"))
    }
}

/// A date of birth: a real date, not in the future and not before 1900.
pub fn date_of_birth(raw: &str, today: NaiveDate) -> Result<NaiveDate, DomainError> {
    let date =
        crate::domain::parse_date("date_of_birth", raw)?.ok_or(DomainError::new("date_of_birth", "invalid_date"))?;
    if date > today {
        return Err(DomainError::new("date_of_birth", "date_in_future"));
    }
    if date < NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date") {
        return Err(DomainError::new("date_of_birth", "invalid_date"));
    }
    Ok(date)
}

/// How a contact reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactType {
    Email,
    Phone,
    Telegram,
    Whatsapp,
    Other,
}

impl ContactType {
    pub const ALL: [ContactType; 5] =
        [ContactType::Phone, ContactType::Email, ContactType::Telegram, ContactType::Whatsapp, ContactType::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactType::Email => "email",
            ContactType::Phone => "phone",
            ContactType::Telegram => "telegram",
            ContactType::Whatsapp => "whatsapp",
            ContactType::Other => "other",
        }
    }
}

impl FromStr for ContactType {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContactType::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or(DomainError::new("type", "invalid_contact_type"))
    }
}

impl fmt::Display for ContactType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A contact's value, normalised for its type: phone-like types to E.164, Telegram usernames
/// without `@` or `t.me/` (lower-cased: Telegram ignores case), emails with a lower-cased domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactValue {
    kind: ContactType,
    value: String,
}

impl ContactValue {
    pub fn parse(kind: ContactType, raw: &str) -> Result<Self, DomainError> {
        Self::parse_in(kind, raw, None)
    }

    /// As `parse`, reading phone numbers written at `home` as `Phone::parse_in` does.
    pub fn parse_in(kind: ContactType, raw: &str, home: Option<HomeCountry>) -> Result<Self, DomainError> {
        let as_value = |e: DomainError| DomainError::new("value", e.code);
        let value = match kind {
            ContactType::Phone | ContactType::Whatsapp => Phone::parse_in(raw, home).map_err(as_value)?.0,
            ContactType::Email => Email::parse(raw).map_err(as_value)?.as_str().to_owned(),
            ContactType::Telegram => {
                let raw = raw.trim();
                let handle = raw
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .trim_start_matches("t.me/")
                    .trim_start_matches('@');
                if handle.is_empty() {
                    return Err(DomainError::new("value", "required"));
                }
                // A user without a username is known by the numeric id Telegram gives.
                if handle.len() <= 20 && handle.bytes().all(|b| b.is_ascii_digit()) {
                    return Ok(Self { kind, value: handle.to_owned() });
                }
                let valid = (5..=32).contains(&handle.len())
                    && handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && handle.starts_with(|c: char| c.is_ascii_alphabetic());
                if !valid {
                    return Err(DomainError::new("value", "invalid_telegram"));
                }
                handle.to_lowercase()
            }
            ContactType::Other => {
                let v = raw.trim();
                if v.is_empty() {
                    return Err(DomainError::new("value", "required"));
                }
                if v.chars().count() > 200 {
                    return Err(DomainError::new("value", "too_long"));
                }
                v.to_owned()
            }
        };
        Ok(Self { kind, value })
    }

    pub fn kind(&self) -> ContactType {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn phones_are_normalised_to_e164_from_what_people_type() {
        for (raw, want) in [
            ("+998 (90) 123-45-67", "+998901234567"),
            ("00998901234567", "+998901234567"),
            ("998 90 123 45 67", "+998901234567"),
            ("+7 912 345.67.89", "+79123456789"),
            ("+1 (415) 555-0100", "+14155550100"),
        ] {
            assert_eq!(Phone::parse(raw).unwrap().as_str(), want, "{raw}");
        }
    }

    #[test]
    fn a_number_written_at_home_gains_the_home_country_code() {
        let uz = "UZ".parse().ok();
        assert_eq!(Phone::parse_in("90 123 45 67", uz).unwrap().as_str(), "+998901234567");
        assert_eq!(Phone::parse_in("+7 912 345 67 89", uz).unwrap().as_str(), "+79123456789");
        assert_eq!(Phone::parse_in("998 90 123 45 67", uz).unwrap().as_str(), "+998901234567");
        assert_eq!(Phone::parse_in("12 34", uz).unwrap_err().code, "phone_needs_country_code");
        let value = ContactValue::parse_in(ContactType::Whatsapp, "8 912 345-67-89", "RU".parse().ok()).unwrap();
        assert_eq!(value.as_str(), "+79123456789");
    }

    #[test]
    fn bad_phones_say_why() {
        assert_eq!(Phone::parse("90 123 45 67").unwrap_err().code, "phone_needs_country_code");
        assert_eq!(Phone::parse("+998 90 12a").unwrap_err().code, "invalid_phone");
        assert_eq!(Phone::parse("+12345").unwrap_err().code, "invalid_phone");
        assert_eq!(Phone::parse("+1234567890123456").unwrap_err().code, "invalid_phone");
        assert_eq!(Phone::parse("9+98901234567").unwrap_err().field, "phone");
    }

    #[test]
    fn a_pins_length_is_checked_where_the_country_is_known() {
        let uz = Phone::parse("+998901234567").unwrap().country();
        assert_eq!(uz, Some(Country::Uzbekistan));
        assert!(Pin::parse("3010 1900 1234 56", uz).is_ok());
        assert_eq!(Pin::parse("123456789012", uz).unwrap_err().code, "pin_length_uz");
        let ru = Phone::parse("+79123456789").unwrap().country();
        assert!(Pin::parse("123456789012", ru).is_ok());
        assert_eq!(Pin::parse("12AB", None).unwrap_err().code, "pin_digits_only");
        assert!(Pin::parse("123456789", None).is_ok());
    }

    #[test]
    fn dates_of_birth_cannot_be_in_the_future() {
        assert!(date_of_birth("1990-05-01", today()).is_ok());
        assert_eq!(date_of_birth("2026-11-23", today()).unwrap_err().code, "date_in_future");
        assert_eq!(date_of_birth("1990-02-30", today()).unwrap_err().code, "invalid_date");
    }

    #[test]
    fn contact_values_are_normalised_per_type() {
        let v = |t, raw| ContactValue::parse(t, raw).map(|c| c.as_str().to_owned());
        assert_eq!(v(ContactType::Telegram, "@Ann_Lee").unwrap(), "ann_lee");
        assert_eq!(v(ContactType::Telegram, "https://t.me/ann_lee").unwrap(), "ann_lee");
        assert_eq!(v(ContactType::Whatsapp, "998 90 123 45 67").unwrap(), "+998901234567");
        assert_eq!(v(ContactType::Email, "Ann@Example.COM").unwrap(), "Ann@example.com");
        assert_eq!(ContactValue::parse(ContactType::Telegram, "@ab").unwrap_err().field, "value");
        assert_eq!(ContactValue::parse(ContactType::Phone, "12").unwrap_err().field, "value");
    }
}
