//! Money as an integer number of minor units (fen for CNY) with a currency.
//! Never a float. Amounts are never negative: a refund is its own line kind,
//! not a negative amount.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::{Hours, Problem, Quantity};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount must not be negative")]
    Negative,
    #[error("amount is too large")]
    Overflow,
}

/// An ISO 4217 code: three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let code = raw.trim();
        if code.is_empty() {
            return Err(Problem::Empty);
        }
        if code.len() != 3 || !code.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Problem::Malformed(
                "a currency is three upper-case letters, e.g. CNY".into(),
            ));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn cny() -> Self {
        Self("CNY".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::cny()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-negative amount of money in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Largest amount accepted: one trillion major units, far above any repair.
const MAX_MINOR: i64 = 100_000_000_000_000;

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative);
        }
        if minor > MAX_MINOR {
            return Err(MoneyError::Overflow);
        }
        Ok(Self { minor, currency })
    }

    /// An amount in fen. Panics never: a negative input is clamped by the
    /// type system at call sites that only pass literals; use [`Money::new`]
    /// for untrusted input.
    pub fn cny(minor: u32) -> Self {
        Self {
            minor: i64::from(minor),
            currency: Currency::cny(),
        }
    }

    pub fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    fn same_currency(&self, other: &Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency.clone(),
                right: other.currency.clone(),
            })
        }
    }

    pub fn checked_add(&self, other: &Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Self::new(sum, self.currency.clone())
    }

    /// `self - other`; an error if the result would be negative.
    pub fn checked_sub(&self, other: &Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        Self::new(self.minor - other.minor, self.currency.clone())
    }

    pub fn times(&self, quantity: Quantity) -> Result<Self, MoneyError> {
        let total = self
            .minor
            .checked_mul(i64::from(quantity.get()))
            .ok_or(MoneyError::Overflow)?;
        Self::new(total, self.currency.clone())
    }

    /// An hourly rate times a duration, rounded half up to the minor unit.
    pub fn per_hour_for(&self, hours: Hours) -> Result<Self, MoneyError> {
        let scaled = self
            .minor
            .checked_mul(i64::from(hours.minutes()))
            .ok_or(MoneyError::Overflow)?;
        Self::new((scaled + 30) / 60, self.currency.clone())
    }

    /// Sums amounts that must all share `currency`.
    pub fn sum<'a>(
        currency: &Currency,
        amounts: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Self, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Self::zero(currency.clone()), |acc, m| acc.checked_add(m))
    }

    /// Compares two amounts of the same currency.
    pub fn cmp_same(&self, other: &Self) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.minor.cmp(&other.minor))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:02} {}",
            self.minor / 100,
            self.minor % 100,
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::parse("USD").expect("valid code")).expect("valid amount")
    }

    #[test]
    fn negative_amount_is_rejected() {
        assert_eq!(Money::new(-1, Currency::cny()), Err(MoneyError::Negative));
    }

    #[test]
    fn adding_cny_to_usd_is_a_currency_mismatch() {
        assert_eq!(
            Money::cny(100).checked_add(&usd(100)),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::cny(),
                right: Currency::parse("USD").expect("valid code"),
            })
        );
    }

    #[test]
    fn subtracting_more_than_there_is_is_negative() {
        assert_eq!(
            Money::cny(100).checked_sub(&Money::cny(101)),
            Err(MoneyError::Negative)
        );
    }

    #[test]
    fn labour_of_ninety_minutes_at_120_per_hour_is_180() {
        let hours = Hours::from_minutes(90).expect("valid");
        assert_eq!(
            Money::cny(12_000).per_hour_for(hours),
            Ok(Money::cny(18_000))
        );
    }

    #[test]
    fn labour_rounds_half_up_to_the_fen() {
        // 1 fen per hour for 30 minutes is half a fen: rounds up to 1.
        let half_hour = Hours::from_minutes(30).expect("valid");
        assert_eq!(Money::cny(1).per_hour_for(half_hour), Ok(Money::cny(1)));
        let twenty_minutes = Hours::from_minutes(20).expect("valid");
        assert_eq!(
            Money::cny(1).per_hour_for(twenty_minutes),
            Ok(Money::cny(0))
        );
    }

    #[test]
    fn display_shows_major_units_with_two_decimals() {
        assert_eq!(Money::cny(99_999).to_string(), "999.99 CNY");
    }

    #[test]
    fn lowercase_currency_is_malformed() {
        assert!(Currency::parse("cny").is_err());
    }

    #[test]
    fn sum_of_nothing_is_zero() {
        assert_eq!(
            Money::sum(&Currency::cny(), []),
            Ok(Money::zero(Currency::cny()))
        );
    }
}
