//! The clock a tenant's people read times in: an IANA time zone (`Asia/Tashkent`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeZone(Tz);

/// The regions of the zones worth offering: every "Area/City" zone people live in.
const AREAS: [&str; 9] =
    ["Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/"];

impl TimeZone {
    pub const UTC: TimeZone = TimeZone(Tz::UTC);

    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    /// `t` on this clock.
    pub fn local(self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.0)
    }

    /// The date it is now on this clock.
    pub fn today(self) -> NaiveDate {
        self.local(Utc::now()).date_naive()
    }

    /// The zones to choose from, by name: UTC, then every "Area/City" zone.
    pub fn choices() -> impl Iterator<Item = TimeZone> {
        std::iter::once(TimeZone::UTC).chain(
            chrono_tz::TZ_VARIANTS
                .iter()
                .filter(|tz| AREAS.iter().any(|area| tz.name().starts_with(area)))
                .map(|tz| TimeZone(*tz)),
        )
    }
}

impl FromStr for TimeZone {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse::<Tz>().map(TimeZone).map_err(|_| DomainError::new("time_zone", "invalid_time_zone"))
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_is_named_as_iana_names_it_and_shows_times_on_its_clock() {
        let tashkent: TimeZone = " Asia/Tashkent ".parse().unwrap();
        assert_eq!(tashkent.as_str(), "Asia/Tashkent");
        let noon_utc = DateTime::parse_from_rfc3339("2026-12-02T19:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(tashkent.local(noon_utc).format("%Y-%m-%d %H:%M").to_string(), "2026-12-03 00:30");
        assert_eq!("Mars/Olympus".parse::<TimeZone>().unwrap_err().code, "invalid_time_zone");
        assert_eq!(TimeZone::default(), TimeZone::UTC);
        let offered: Vec<_> = TimeZone::choices().map(TimeZone::as_str).collect();
        assert_eq!(offered[0], "UTC");
        assert!(offered.contains(&"Asia/Tashkent") && offered.contains(&"Europe/Moscow"));
        assert!(!offered.iter().any(|z| z.starts_with("Etc/") || *z == "EST"), "no aliases");
    }
}
