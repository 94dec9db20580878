//! Translations: every visible string comes from locales/{en,ru,uz}.json, flat `area.key` maps;
//! and `Tr`, which also shows times on the reader's clock.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use crate::domain::{Locale, TimeZone};

type Catalog = HashMap<String, String>;

fn parse(locale: &str, json: &str) -> Catalog {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("locales/{locale}.json is not a flat string map: {e}"))
}

static EN: LazyLock<Catalog> = LazyLock::new(|| parse("en", include_str!("../locales/en.json")));
static RU: LazyLock<Catalog> = LazyLock::new(|| parse("ru", include_str!("../locales/ru.json")));
static UZ: LazyLock<Catalog> = LazyLock::new(|| parse("uz", include_str!("../locales/uz.json")));

pub fn catalog(locale: Locale) -> &'static Catalog {
    match locale {
        Locale::En => &EN,
        Locale::Ru => &RU,
        Locale::Uz => &UZ,
    }
}

/// The CLDR plural category of a whole number: Russian has one (1, 21, 101…), few (2–4, 22–24…)
/// and many (the rest); English and Uzbek one (1) and other.
fn plural_form(locale: Locale, n: i64) -> &'static str {
    let n = n.unsigned_abs();
    match locale {
        Locale::Ru => match (n % 10, n % 100) {
            (1, r) if r != 11 => "one",
            (2..=4, r) if !(12..=14).contains(&r) => "few",
            _ => "many",
        },
        Locale::En | Locale::Uz => {
            if n == 1 {
                "one"
            } else {
                "other"
            }
        }
    }
}

/// Whether `key` is a known message; used to accept only real keys from a flash cookie.
pub fn exists(key: &str) -> bool {
    EN.contains_key(key)
}

/// How a page speaks to its reader: in their language, with times on their tenant's clock.
/// Cheap to copy into every view.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub locale: Locale,
    pub zone: TimeZone,
}

impl Tr {
    /// In `locale`, times in UTC (before sign-in, and for what is not a person's page).
    pub fn new(locale: Locale) -> Self {
        Self { locale, zone: TimeZone::UTC }
    }

    /// The same, with times on `zone`'s clock.
    pub fn on_clock(self, zone: TimeZone) -> Self {
        Self { zone, ..self }
    }

    /// A moment as tables show it: `2026-11-22 14:05` on the reader's clock.
    pub fn datetime(&self, t: &DateTime<Utc>) -> String {
        self.zone.local(*t).format("%Y-%m-%d %H:%M").to_string()
    }

    /// A moment on the reader's clock, to format otherwise.
    pub fn local(&self, t: &DateTime<Utc>) -> DateTime<chrono_tz::Tz> {
        self.zone.local(*t)
    }

    /// The message for `key`; English if this language lacks it (a test forbids that), the key
    /// itself if nobody has it.
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        catalog(self.locale).get(key).or_else(|| EN.get(key)).map_or(key, String::as_str)
    }

    /// The message for `key` with `{name}` replaced by `value`.
    pub fn t1(&self, key: &str, name: &str, value: &dyn std::fmt::Display) -> String {
        self.t(key).replace(&format!("{{{name}}}"), &value.to_string())
    }

    /// The message for `count` of something: `<key>.zero` for none, else the plural form the
    /// language uses for that number (`one`, `few`, `many`, `other`, as CLDR names them), with
    /// `{count}` filled in. Every locale has all five keys, so the test of key sets holds.
    pub fn count(&self, key: &str, count: i64) -> String {
        let form = if count == 0 { "zero" } else { plural_form(self.locale, count) };
        self.t1(&format!("{key}.{form}"), "count", &count)
    }

    /// The message for a key made at run time (`country.UZ`), or `fallback` if nobody has it.
    pub fn lookup(&self, key: &str, fallback: &'static str) -> &'static str {
        catalog(self.locale).get(key).or_else(|| EN.get(key)).map_or(fallback, String::as_str)
    }

    /// An amount as this language writes it, cents only when there are some: `12,500.50` in
    /// English, `12 500,50` in Russian and Uzbek (a narrow no-break space between groups).
    pub fn amount(&self, amount: rust_decimal::Decimal) -> String {
        let (group, point) = match self.locale {
            Locale::En => (",", "."),
            Locale::Ru | Locale::Uz => ("\u{202f}", ","),
        };
        let text = amount.round_dp(2).abs().to_string();
        let (whole, cents) = text.split_once('.').unwrap_or((&text, ""));
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push_str(group);
            }
            grouped.push(c);
        }
        let cents = cents.trim_end_matches('0');
        let sign = if amount.is_sign_negative() && !amount.is_zero() { "-" } else { "" };
        if cents.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}{point}{cents:0<2}") }
    }

    /// An amount with its currency's code: `12,500 USD`.
    pub fn money(&self, amount: rust_decimal::Decimal, currency: &str) -> String {
        format!("{}\u{a0}{currency}", self.amount(amount))
    }

    /// A day as tables show it: `2026-12-31`.
    pub fn date(&self, d: &chrono::NaiveDate) -> String {
        d.format("%Y-%m-%d").to_string()
    }

    /// The message for a domain error: `error.<code>`.
    pub fn error(&self, code: &str) -> &'static str {
        self.lookup(&format!("error.{code}"), "Invalid value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_and_pointed_as_each_language_writes_them() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        let (en, ru) = (Tr::new(Locale::En), Tr::new(Locale::Ru));
        assert_eq!(en.amount(d("1234567.50")), "1,234,567.50");
        assert_eq!(en.amount(d("12500.00")), "12,500");
        assert_eq!(en.amount(d("999")), "999");
        assert_eq!(ru.amount(d("1234567.05")), "1\u{202f}234\u{202f}567,05");
        assert_eq!(ru.money(d("0"), "UZS"), "0\u{a0}UZS");
        assert_eq!(en.amount(d("-1000.5")), "-1,000.50");
    }

    #[test]
    fn counts_take_the_plural_form_of_their_language() {
        let (en, ru) = (Tr::new(Locale::En), Tr::new(Locale::Ru));
        assert_eq!(en.count("users.sessions", 0), "Not signed in");
        assert_eq!(en.count("users.sessions", 1), "Signed in on 1 device");
        assert_eq!(en.count("users.sessions", 2), "Signed in on 2 devices");
        let forms: Vec<_> = [1, 2, 5, 11, 12, 21, 22, 25, 111].map(|n| plural_form(Locale::Ru, n)).into();
        assert_eq!(forms, ["one", "few", "many", "many", "many", "one", "few", "many", "many"]);
        assert_eq!(ru.count("users.sessions", 3), "Вошёл на 3 устройствах");
        assert_eq!(Tr::new(Locale::Uz).count("users.sessions", 0), "Tizimga kirmagan");
    }
}
