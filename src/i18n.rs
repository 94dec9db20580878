//! Translations: every visible string comes from locales/{en,ru,uz}.json, flat `area.key` maps.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::Locale;

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

/// Whether `key` is a known message; used to accept only real keys from a flash cookie.
pub fn exists(key: &str) -> bool {
    EN.contains_key(key)
}

/// A translator for one language. Cheap to copy into every view.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub locale: Locale,
}

impl Tr {
    pub fn new(locale: Locale) -> Self {
        Self { locale }
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

    /// The message for a domain error: `error.<code>`.
    pub fn error(&self, code: &str) -> &'static str {
        let key = format!("error.{code}");
        catalog(self.locale).get(&key).or_else(|| EN.get(&key)).map_or("Invalid value", String::as_str)
    }
}
