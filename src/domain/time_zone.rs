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

    /// A moment as typed or sent: RFC 3339 (`2026-12-03T15:30:00Z`, any offset), or a time on
    /// this clock as a form's `datetime-local` writes it (`2026-12-03T15:30`). Empty is
    /// absent; anything else is `invalid_datetime` on `field`.
    pub fn parse_moment(self, field: &'static str, raw: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        let local = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| DomainError::new(field, "invalid_datetime"))?;
        // A time a clock change skips is read as the one after it; one it repeats as the first.
        use chrono::TimeZone as _;
        let at = self
            .0
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| self.0.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest());
        at.map(|t| Some(t.with_timezone(&Utc))).ok_or(DomainError::new(field, "invalid_datetime"))
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

    #[test]
    fn a_moment_is_read_as_rfc_3339_or_as_a_time_on_the_clock() {
        let tashkent: TimeZone = "Asia/Tashkent".parse().unwrap();
        let utc = |s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(tashkent.parse_moment("due_at", "2026-12-03T15:30").unwrap(), Some(utc("2026-12-03T10:30:00Z")));
        assert_eq!(
            tashkent.parse_moment("due_at", "2026-12-03T15:30:00+01:00").unwrap(),
            Some(utc("2026-12-03T14:30:00Z"))
        );
        assert_eq!(tashkent.parse_moment("due_at", " ").unwrap(), None);
        assert_eq!(tashkent.parse_moment("due_at", "tomorrow").unwrap_err().code, "invalid_datetime");
    }
}
