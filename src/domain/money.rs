//! Money: decimal amounts (never floats) and the tenant's exchange rates into its base currency.
//! A rate says what one unit of a currency is worth in the base currency; a deal's value in the
//! base currency is frozen with the rate of its time (`to_base`).

use std::collections::HashSet;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use super::DomainError;
use super::currency::Currency;

/// Digits a rate keeps after the point.
pub const RATE_PLACES: u32 = 10;
/// Digits an amount keeps after the point.
pub const AMOUNT_PLACES: u32 = 2;

/// Reads a decimal as people type it: `12650.5`, `12 650,5`, `"1250.00"`, or a JSON number.
fn parse_decimal(raw: &serde_json::Value) -> Option<Decimal> {
    let text = match raw {
        serde_json::Value::String(s) => s.clone(),
        // Its text, not a float: 0.1 stays 0.1.
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let cleaned: String =
        text.trim().chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}').collect();
    // With both marks, the last is the decimal point and the other groups thousands
    // ("12,500.50", "12.500,50"); a comma alone is a decimal comma ("12500,5").
    let cleaned = match (cleaned.rfind(','), cleaned.rfind('.')) {
        (Some(c), Some(p)) if c < p => cleaned.replace(',', ""),
        (Some(_), Some(_)) => cleaned.replace('.', "").replace(',', "."),
        (Some(_), None) => cleaned.replace(',', "."),
        _ => cleaned,
    };
    Decimal::from_str(&cleaned).or_else(|_| Decimal::from_scientific(&cleaned)).ok()
}

/// What one unit of a currency is worth in the base currency: more than zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(Decimal);

impl Rate {
    pub const ONE: Rate = Rate(Decimal::ONE);

    pub fn parse(raw: &serde_json::Value) -> Result<Rate, DomainError> {
        let bad = || DomainError::new("rate", "invalid_rate");
        let d = parse_decimal(raw).ok_or_else(bad)?;
        Rate::new(d).ok_or_else(bad)
    }

    /// `d` rounded to `RATE_PLACES`, if it is a rate at all (more than zero, less than 10¹²).
    pub fn new(d: Decimal) -> Option<Rate> {
        let d = d.round_dp_with_strategy(RATE_PLACES, RoundingStrategy::MidpointAwayFromZero).normalize();
        (d > Decimal::ZERO && d < Decimal::from(1_000_000_000_000i64)).then_some(Rate(d))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// As the API writes it: a decimal string without trailing zeros.
    pub fn as_string(self) -> String {
        self.0.normalize().to_string()
    }

    /// The same rates seen from another base: this rate divided by the new base's old rate.
    pub fn rebased(self, new_base: Rate) -> Option<Rate> {
        Rate::new(self.0.checked_div(new_base.0)?)
    }
}

/// An amount of money: zero or more, to the cent, less than 10¹⁶ (what NUMERIC(18, 2) holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(Decimal);

impl Amount {
    /// An amount as typed or sent (see `parse_decimal`); more than two decimals is refused
    /// rather than rounded away without a word.
    pub fn parse(field: &'static str, raw: &serde_json::Value) -> Result<Amount, DomainError> {
        let d = parse_decimal(raw).ok_or(DomainError::new(field, "invalid_amount"))?;
        if d.normalize().scale() > AMOUNT_PLACES {
            return Err(DomainError::new(field, "too_many_decimals"));
        }
        Amount::new(d).ok_or(DomainError::new(field, "invalid_amount"))
    }

    /// `d` if it is an amount, at two decimals.
    pub fn new(d: Decimal) -> Option<Amount> {
        let mut d = d.round_dp_with_strategy(AMOUNT_PLACES, RoundingStrategy::MidpointAwayFromZero);
        d.rescale(AMOUNT_PLACES);
        (d >= Decimal::ZERO && d < Decimal::from(10_000_000_000_000_000i64)).then_some(Amount(d))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// As the API writes it: a decimal string with two decimals, "1250.00".
    pub fn as_string(self) -> String {
        self.0.to_string()
    }

    /// This amount in the base currency at `rate`, to the cent.
    pub fn to_base(self, rate: Rate) -> Option<Amount> {
        Amount::new(to_base(self.0, rate)?)
    }
}

/// `amount` in the base currency at `rate`, to the cent.
pub fn to_base(amount: Decimal, rate: Rate) -> Option<Decimal> {
    Some(amount.checked_mul(rate.0)?.round_dp_with_strategy(AMOUNT_PLACES, RoundingStrategy::MidpointAwayFromZero))
}

/// One rate as sent to the API or typed in a form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct RateInput {
    pub currency: String,
    pub rate: serde_json::Value,
}

/// The whole table of rates, as `PUT /api/v1/currency-rates` replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct RatesInput {
    pub items: Vec<RateInput>,
}

impl RatesInput {
    /// Each rate checked (`items[i].currency`, `items[i].rate` name a bad one); a currency
    /// once; the base currency only at 1 (and then left out: it is always 1).
    pub fn parse(&self, base: Currency) -> Result<Vec<(Currency, Rate)>, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            let currency = Currency::from_str(&item.currency).map_err(|e| errors.push(e.of_item("items", i))).ok();
            let rate = Rate::parse(&item.rate).map_err(|e| errors.push(e.of_item("items", i))).ok();
            let Some(currency) = currency else { continue };
            if !seen.insert(currency) {
                errors.push(DomainError::new("currency", "duplicate_currency").of_item("items", i));
                continue;
            }
            match rate {
                Some(r) if currency == base && r != Rate::ONE => {
                    errors.push(DomainError::new("rate", "base_rate_is_one").of_item("items", i))
                }
                Some(_) if currency == base => {}
                Some(r) => out.push((currency, r)),
                None => {}
            }
        }
        if errors.is_empty() {
            out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// The rates of the table seen from `new_base` (one of them): every other currency's rate
/// divided by the new base's, the old base at 1 ÷ that. `None` when the table has no rate for
/// `new_base` (nothing to turn it with).
pub fn rebase(rates: &[(Currency, Rate)], old_base: Currency, new_base: Currency) -> Option<Vec<(Currency, Rate)>> {
    let pivot = rates.iter().find(|(c, _)| *c == new_base)?.1;
    let mut out: Vec<(Currency, Rate)> = rates
        .iter()
        .filter(|(c, _)| *c != new_base)
        .map(|(c, r)| r.rebased(pivot).map(|r| (*c, r)))
        .collect::<Option<_>>()?;
    out.push((old_base, Rate::ONE.rebased(pivot)?));
    out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(code: &str) -> Currency {
        code.parse().unwrap()
    }

    #[test]
    fn rates_are_read_as_people_type_them_and_never_through_a_float() {
        for (raw, want) in [
            (json!("12650.5"), "12650.5"),
            (json!("12 650,50"), "12650.5"),
            (json!(0.1), "0.1"),
            (json!("1e-4"), "0.0001"),
        ] {
            assert_eq!(Rate::parse(&raw).unwrap().as_string(), want, "{raw}");
        }
        for raw in [json!("0"), json!("-3"), json!("abc"), json!(null), json!(true), json!("1e13")] {
            assert_eq!(Rate::parse(&raw).unwrap_err().code, "invalid_rate", "{raw}");
        }
        let usd = Rate::parse(&json!("12650.55")).unwrap();
        assert_eq!(to_base(Decimal::from_str("1250.10").unwrap(), usd).unwrap().to_string(), "15814452.56");
    }

    #[test]
    fn amounts_keep_cents_refuse_fractions_of_them_and_turn_into_the_base_currency() {
        assert_eq!(Amount::parse("value", &json!("12 500,5")).unwrap().as_string(), "12500.50");
        assert_eq!(Amount::parse("value", &json!(0)).unwrap().as_string(), "0.00");
        assert_eq!(Amount::parse("value", &json!("1.10")).unwrap().as_string(), "1.10");
        assert_eq!(Amount::parse("value", &json!("12,500.50")).unwrap().as_string(), "12500.50");
        assert_eq!(Amount::parse("value", &json!("12.500,50")).unwrap().as_string(), "12500.50");
        for (raw, code) in [
            (json!("1.005"), "too_many_decimals"),
            (json!("-1"), "invalid_amount"),
            (json!("1e16"), "invalid_amount"),
            (json!("ten"), "invalid_amount"),
            (json!(null), "invalid_amount"),
        ] {
            assert_eq!(Amount::parse("value", &raw).unwrap_err().code, code, "{raw}");
        }
        let usd = Rate::parse(&json!("12650.55")).unwrap();
        let v = Amount::parse("value", &json!("1250.10")).unwrap();
        assert_eq!(v.to_base(usd).unwrap().as_string(), "15814452.56");
    }

    #[test]
    fn a_table_names_each_bad_rate_and_keeps_the_base_at_one() {
        let input = RatesInput {
            items: vec![
                RateInput { currency: "usd".into(), rate: json!("12650") },
                RateInput { currency: "XXX".into(), rate: json!("-1") },
                RateInput { currency: "USD".into(), rate: json!("1") },
                RateInput { currency: "UZS".into(), rate: json!("2") },
            ],
        };
        let paths: Vec<String> = input.parse(c("UZS")).unwrap_err().iter().map(|e| e.path()).collect();
        assert_eq!(paths, ["items[1].currency", "items[1].rate", "items[2].currency", "items[3].rate"]);
        let ok = RatesInput {
            items: vec![
                RateInput { currency: "EUR".into(), rate: json!("13700") },
                RateInput { currency: "UZS".into(), rate: json!(1) },
            ],
        };
        assert_eq!(ok.parse(c("UZS")).unwrap(), vec![(c("EUR"), Rate::parse(&json!("13700")).unwrap())]);
    }

    #[test]
    fn a_new_base_turns_every_rate_and_the_old_base_joins_the_table() {
        let r = |s: &str| Rate::parse(&json!(s)).unwrap();
        let rates = vec![(c("EUR"), r("13700")), (c("USD"), r("12500"))];
        let seen_from_usd = rebase(&rates, c("UZS"), c("USD")).unwrap();
        assert_eq!(seen_from_usd, vec![(c("EUR"), r("1.096")), (c("UZS"), r("0.00008"))]);
        assert!(rebase(&rates, c("UZS"), c("RUB")).is_none(), "no rate for the new base");
    }
}
