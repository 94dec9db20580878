//! A tenant's settings: its name, the country its local phone numbers belong to, its base
//! currency, language and clock, how new chats are assigned and what agents may see.

use std::str::FromStr;

use super::{Currency, DomainError, HomeCountry, Locale, TenantName, TimeZone};

/// How a new conversation finds its assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoAssign {
    /// It waits, unassigned, for someone to take it.
    #[default]
    Off,
    /// It goes to the available agent whose last assignment is oldest.
    RoundRobin,
}

/// Which records agents see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordVisibility {
    #[default]
    All,
    /// Only what they own or are assigned (admins still see everything).
    Own,
}

macro_rules! choice {
    ($ty:ty, $field:literal, $($variant:path => $text:literal),+) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
        }
        impl FromStr for $ty {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() { $($text => Ok($variant),)+ _ => Err(DomainError::new($field, "invalid_choice")) }
            }
        }
    };
}

choice!(AutoAssign, "auto_assign", AutoAssign::Off => "off", AutoAssign::RoundRobin => "round_robin");
choice!(RecordVisibility, "record_visibility", RecordVisibility::All => "all", RecordVisibility::Own => "own");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSettings {
    pub name: TenantName,
    /// Where numbers typed without a country code belong; none: every number needs its code.
    pub default_country: Option<HomeCountry>,
    pub base_currency: Currency,
    /// The language of what the tenant's people get without choosing one (notifications).
    pub locale: Locale,
    /// The clock its pages show times on.
    pub time_zone: TimeZone,
    pub auto_assign: AutoAssign,
    pub record_visibility: RecordVisibility,
}

/// A change to the settings as typed or sent: an absent field keeps its value; an empty
/// `default_country` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct SettingsInput {
    pub name: Option<String>,
    pub default_country: Option<String>,
    pub base_currency: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub auto_assign: Option<String>,
    pub record_visibility: Option<String>,
    /// Fields that came as something other than text (a number in JSON): each is refused as
    /// `invalid_value`, together with whatever else is wrong.
    #[serde(skip)]
    pub malformed: Vec<&'static str>,
}

impl TenantSettings {
    /// These settings with `input` applied, or every field at fault.
    pub fn with(&self, input: &SettingsInput) -> Result<TenantSettings, Vec<DomainError>> {
        let mut errors: Vec<DomainError> =
            input.malformed.iter().map(|field| DomainError::new(field, "invalid_value")).collect();
        let mut out = self.clone();
        let mut apply = |r: Result<(), DomainError>| {
            if let Err(e) = r {
                errors.push(e)
            }
        };
        if let Some(name) = &input.name {
            apply(TenantName::parse(name).map(|n| out.name = n));
        }
        if let Some(country) = &input.default_country {
            let parsed = match country.trim() {
                "" => Ok(None),
                code => code.parse().map(Some),
            };
            apply(parsed.map(|c| out.default_country = c));
        }
        if let Some(currency) = &input.base_currency {
            let parsed = currency.parse::<Currency>().map_err(|e| DomainError::new("base_currency", e.code));
            apply(parsed.map(|c| out.base_currency = c));
        }
        if let Some(locale) = &input.locale {
            let parsed = locale.parse::<Locale>().map_err(|e| DomainError::new("locale", e.code));
            apply(parsed.map(|l| out.locale = l));
        }
        if let Some(zone) = &input.time_zone {
            apply(zone.parse().map(|z| out.time_zone = z));
        }
        if let Some(mode) = &input.auto_assign {
            apply(mode.parse().map(|m| out.auto_assign = m));
        }
        if let Some(visibility) = &input.record_visibility {
            apply(visibility.parse().map(|v| out.record_visibility = v));
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }

    /// What differs from `before`, as `field: old → new` phrases for the audit log.
    pub fn changes_from(&self, before: &TenantSettings) -> Vec<String> {
        let country = |c: Option<HomeCountry>| c.map_or("—".to_owned(), |c| c.to_string());
        [
            ("name", before.name.as_str().to_owned(), self.name.as_str().to_owned()),
            ("default_country", country(before.default_country), country(self.default_country)),
            ("base_currency", before.base_currency.to_string(), self.base_currency.to_string()),
            ("locale", before.locale.as_str().to_owned(), self.locale.as_str().to_owned()),
            ("time_zone", before.time_zone.to_string(), self.time_zone.to_string()),
            ("auto_assign", before.auto_assign.as_str().to_owned(), self.auto_assign.as_str().to_owned()),
            (
                "record_visibility",
                before.record_visibility.as_str().to_owned(),
                self.record_visibility.as_str().to_owned(),
            ),
        ]
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| format!("{field}: {old} → {new}"))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TenantSettings {
        TenantSettings {
            name: TenantName::parse("Acme").unwrap(),
            default_country: None,
            base_currency: "USD".parse().unwrap(),
            locale: Locale::En,
            time_zone: TimeZone::UTC,
            auto_assign: AutoAssign::Off,
            record_visibility: RecordVisibility::All,
        }
    }

    #[test]
    fn a_change_applies_what_it_names_and_keeps_the_rest() {
        let input = SettingsInput {
            default_country: Some("uz".into()),
            time_zone: Some("Asia/Tashkent".into()),
            auto_assign: Some("round_robin".into()),
            ..Default::default()
        };
        let after = settings().with(&input).unwrap();
        assert_eq!(after.default_country.map(HomeCountry::code), Some("UZ"));
        assert_eq!(after.auto_assign, AutoAssign::RoundRobin);
        assert_eq!(after.name.as_str(), "Acme");
        assert_eq!(
            after.changes_from(&settings()),
            ["default_country: — → UZ", "time_zone: UTC → Asia/Tashkent", "auto_assign: off → round_robin"]
        );
        let cleared = after.with(&SettingsInput { default_country: Some(" ".into()), ..Default::default() }).unwrap();
        assert_eq!(cleared.default_country, None);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let input = SettingsInput {
            name: Some(" ".into()),
            default_country: Some("XX".into()),
            base_currency: Some("dollars".into()),
            locale: Some("fr".into()),
            time_zone: Some("Mars/Olympus".into()),
            auto_assign: Some("random".into()),
            record_visibility: Some("mine".into()),
            malformed: Vec::new(),
        };
        let fields: Vec<_> = settings().with(&input).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["name", "default_country", "base_currency", "locale", "time_zone", "auto_assign", "record_visibility"]
        );
        let typed = SettingsInput { malformed: vec!["locale"], name: Some(" ".into()), ..Default::default() };
        let codes: Vec<_> = settings().with(&typed).unwrap_err().into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(codes, [("locale", "invalid_value"), ("name", "required")]);
    }
}
