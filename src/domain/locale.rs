//! The languages the interface speaks, and how a browser's Accept-Language picks one.

use std::fmt;
use std::str::FromStr;

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    Ru,
    Uz,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::Ru, Locale::Uz];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
            Locale::Uz => "uz",
        }
    }

    /// The language's own name, as shown in a language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Ru => "Русский",
            Locale::Uz => "Oʻzbekcha",
        }
    }

    /// Picks the best supported language from an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Ok(locale) = primary.parse::<Locale>()
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }
}

impl FromStr for Locale {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Locale::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(DomainError::new("locale", "unknown_locale"))
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_q_value_we_support() {
        assert_eq!(Locale::from_accept_language("de-DE,de;q=0.9,ru;q=0.8,en;q=0.7"), Some(Locale::Ru));
        assert_eq!(Locale::from_accept_language("uz-Latn-UZ"), Some(Locale::Uz));
        assert_eq!(Locale::from_accept_language("fr, de;q=0.5"), None);
        assert_eq!(Locale::from_accept_language("ru;q=0, en;q=0.1"), Some(Locale::En));
    }
}
