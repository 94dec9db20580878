//! Currencies by their ISO 4217 code: a tenant's base currency, and later each deal's.

use std::fmt;
use std::str::FromStr;

use super::DomainError;

/// The active ISO 4217 codes (funds and precious metals left out), sorted.
const CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP \
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF \
GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD \
LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR \
PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY \
TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL";

/// A currency's ISO 4217 code, e.g. `UZS`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("an ASCII code")
    }

    /// Every code, for a picker.
    pub fn all() -> impl Iterator<Item = Currency> {
        CODES.split(' ').map(|c| Currency(c.as_bytes().try_into().expect("three letters")))
    }
}

impl FromStr for Currency {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_uppercase();
        Currency::all().find(|c| c.as_str() == code).ok_or(DomainError::new("currency", "unknown_currency"))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_three_letters_sorted_and_read_in_any_case() {
        let all: Vec<_> = Currency::all().map(|c| c.to_string()).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(all.iter().all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
        assert_eq!(" uzs ".parse::<Currency>().unwrap().as_str(), "UZS");
        assert_eq!("XYZ".parse::<Currency>().unwrap_err().code, "unknown_currency");
    }
}
