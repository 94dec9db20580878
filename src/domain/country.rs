//! The countries a tenant may say it works in, each with how its people write a phone number
//! at home ("90 123 45 67", "8 912 345-67-89"), so such numbers can be read as international
//! ones. The table holds the countries whose national numbering we know; a tenant elsewhere
//! keeps typing numbers with their country code.

use std::fmt;
use std::str::FromStr;

use super::DomainError;

/// How one country's numbers are written at home.
#[derive(Debug, PartialEq, Eq)]
struct DialPlan {
    /// ISO 3166-1 alpha-2.
    iso: &'static str,
    /// The international calling code, digits only.
    calling: &'static str,
    /// The prefixes dialled before a national number at home (the "trunk"), longest first.
    trunks: &'static [&'static str],
    /// How many digits a national number (without trunk) has.
    min_len: usize,
    max_len: usize,
    /// A number as people write it at home: the placeholder of phone fields.
    example: &'static str,
}

const PLANS: [DialPlan; 22] = [
    DialPlan { iso: "AE", calling: "971", trunks: &["0"], min_len: 8, max_len: 9, example: "050 123 4567" },
    DialPlan { iso: "AM", calling: "374", trunks: &["0"], min_len: 8, max_len: 8, example: "077 123456" },
    DialPlan { iso: "AZ", calling: "994", trunks: &["0"], min_len: 9, max_len: 9, example: "050 123 45 67" },
    DialPlan { iso: "BY", calling: "375", trunks: &["80", "8"], min_len: 9, max_len: 9, example: "8 029 123-45-67" },
    DialPlan { iso: "CA", calling: "1", trunks: &["1"], min_len: 10, max_len: 10, example: "(506) 234-5678" },
    DialPlan { iso: "CN", calling: "86", trunks: &["0"], min_len: 9, max_len: 11, example: "131 2345 6789" },
    DialPlan { iso: "DE", calling: "49", trunks: &["0"], min_len: 6, max_len: 11, example: "01512 3456789" },
    DialPlan { iso: "ES", calling: "34", trunks: &[], min_len: 9, max_len: 9, example: "612 34 56 78" },
    DialPlan { iso: "FR", calling: "33", trunks: &["0"], min_len: 9, max_len: 9, example: "06 12 34 56 78" },
    DialPlan { iso: "GB", calling: "44", trunks: &["0"], min_len: 9, max_len: 10, example: "07400 123456" },
    DialPlan { iso: "GE", calling: "995", trunks: &["0"], min_len: 9, max_len: 9, example: "555 12 34 56" },
    DialPlan { iso: "IN", calling: "91", trunks: &["0"], min_len: 10, max_len: 10, example: "081234 56789" },
    DialPlan { iso: "KG", calling: "996", trunks: &["0"], min_len: 9, max_len: 9, example: "0700 123 456" },
    DialPlan { iso: "KR", calling: "82", trunks: &["0"], min_len: 8, max_len: 10, example: "010-2000-0000" },
    DialPlan { iso: "KZ", calling: "7", trunks: &["8"], min_len: 10, max_len: 10, example: "8 771 000 9998" },
    DialPlan { iso: "PL", calling: "48", trunks: &[], min_len: 9, max_len: 9, example: "512 345 678" },
    DialPlan { iso: "RU", calling: "7", trunks: &["8"], min_len: 10, max_len: 10, example: "8 912 345-67-89" },
    DialPlan { iso: "TJ", calling: "992", trunks: &["8"], min_len: 9, max_len: 9, example: "91 712 3456" },
    DialPlan { iso: "TM", calling: "993", trunks: &["8"], min_len: 8, max_len: 8, example: "8 66 123456" },
    DialPlan { iso: "TR", calling: "90", trunks: &["0"], min_len: 10, max_len: 10, example: "0501 234 56 78" },
    DialPlan { iso: "UA", calling: "380", trunks: &["0"], min_len: 9, max_len: 9, example: "050 123 4567" },
    DialPlan { iso: "UZ", calling: "998", trunks: &["8"], min_len: 9, max_len: 9, example: "90 123 45 67" },
];

/// A country whose national numbering we know; see the module's note.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HomeCountry(&'static DialPlan);

impl HomeCountry {
    /// Every country a tenant may choose, by ISO code.
    pub fn all() -> impl Iterator<Item = HomeCountry> {
        PLANS.iter().map(HomeCountry)
    }

    /// The ISO 3166-1 alpha-2 code, e.g. `UZ`.
    pub fn code(self) -> &'static str {
        self.0.iso
    }

    /// A number as people write it at home there.
    pub fn example(self) -> &'static str {
        self.0.example
    }

    /// The international number (digits, without `+`) that `digits`, typed at home without a
    /// country code, stand for; `None` when they are not the length of a national number.
    pub fn international(self, digits: &str) -> Option<String> {
        let plan = self.0;
        let fits = |n: &str| (plan.min_len..=plan.max_len).contains(&n.len()) && !n.starts_with('0');
        plan.trunks
            .iter()
            .filter_map(|t| digits.strip_prefix(t))
            .chain([digits])
            .find(|n| fits(n))
            .map(|n| format!("{}{n}", plan.calling))
    }
}

impl FromStr for HomeCountry {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim();
        PLANS
            .iter()
            .find(|p| p.iso.eq_ignore_ascii_case(code))
            .map(HomeCountry)
            .ok_or(DomainError::new("default_country", "unknown_country"))
    }
}

impl fmt::Debug for HomeCountry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.iso)
    }
}

impl fmt::Display for HomeCountry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.iso)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(code: &str) -> HomeCountry {
        code.parse().unwrap()
    }

    #[test]
    fn the_table_is_sorted_and_each_example_reads_as_a_home_number() {
        let codes: Vec<_> = HomeCountry::all().map(HomeCountry::code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        for c in HomeCountry::all() {
            let digits: String = c.example().chars().filter(char::is_ascii_digit).collect();
            assert!(c.international(&digits).is_some(), "{c}: {}", c.example());
        }
    }

    #[test]
    fn home_numbers_gain_the_country_code_with_or_without_the_trunk() {
        assert_eq!(country("UZ").international("901234567").as_deref(), Some("998901234567"));
        assert_eq!(country("uz").international("8901234567").as_deref(), Some("998901234567"));
        assert_eq!(country("RU").international("89123456789").as_deref(), Some("79123456789"));
        assert_eq!(country("RU").international("9123456789").as_deref(), Some("79123456789"));
        assert_eq!(country("UA").international("0501234567").as_deref(), Some("380501234567"));
        assert_eq!(country("BY").international("80291234567").as_deref(), Some("375291234567"));
        // Not a home number's length: left to be read as international.
        assert_eq!(country("UZ").international("998901234567"), None);
        assert_eq!(country("RU").international("79123456789"), None);
    }

    #[test]
    fn an_unknown_code_is_refused_by_name() {
        let e = "XX".parse::<HomeCountry>().unwrap_err();
        assert_eq!((e.field, e.code), ("default_country", "unknown_country"));
    }
}
