//! Validated value types. Each parses its raw input once, at the edge, and
//! from then on is known to be well formed.
//!
//! Parsers return a [`Problem`]; the caller knows which field it was parsing
//! and turns it into a [`ValueError`] with [`Problem::at`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// What is wrong with one input value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must be between {min} and {max}")]
    OutOfRange { min: i64, max: i64 },
    /// A list longer than its limit (whether it may be empty is the
    /// command's own rule, stated separately as [`Problem::Empty`]).
    #[error("must have at most {max} entries")]
    TooMany { max: usize },
    #[error("{0}")]
    Malformed(String),
}

impl Problem {
    /// Names the field the problem was found in.
    pub fn at(self, field: impl Into<String>) -> ValueError {
        ValueError {
            field: field.into(),
            problem: self,
        }
    }
}

/// An input field that failed validation. Surface it to a caller as an
/// invalid-argument error naming `field`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct ValueError {
    pub field: String,
    pub problem: Problem,
}

/// Longest free text we store (descriptions, comments, reasons).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest short label (names, carriers, addresses lines, codes).
pub const MAX_LABEL_CHARS: usize = 200;

fn bounded(raw: &str, max: usize) -> Result<String, Problem> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Problem::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(Problem::TooLong { max });
    }
    Ok(trimmed.to_owned())
}

fn identifier(raw: &str, max: usize, what: &str) -> Result<String, Problem> {
    let value = bounded(raw, max)?;
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if !ok {
        return Err(Problem::Malformed(format!(
            "{what} may contain only letters, digits, '-', '_', '.' and '/'"
        )));
    }
    Ok(value)
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// A product's serial number: 1–64 characters of letters, digits and `-_./`.
    SerialNumber
);
string_newtype!(
    /// A part number: 1–40 characters of letters, digits and `-_./`.
    PartNumber
);
string_newtype!(
    /// A phone number: digits with optional `+`, spaces, `-` and parentheses; 5–20 digits.
    PhoneNumber
);
string_newtype!(
    /// Who acted: a user or service id, 1–64 characters without spaces.
    ActorId
);
string_newtype!(
    /// Non-empty free text of at most [`MAX_TEXT_CHARS`] characters.
    Text
);
string_newtype!(
    /// Non-empty short text of at most [`MAX_LABEL_CHARS`] characters.
    Label
);

impl SerialNumber {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        identifier(raw, 64, "a serial number").map(Self)
    }
}

impl PartNumber {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        identifier(raw, 40, "a part number").map(Self)
    }
}

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let value = bounded(raw, 32)?;
        let allowed = value.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0)
        });
        let digits = value.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(5..=20).contains(&digits) {
            return Err(Problem::Malformed(
                "a phone number has 5 to 20 digits and only '+', spaces, '-' or parentheses besides"
                    .into(),
            ));
        }
        Ok(Self(value))
    }
}

impl ActorId {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let value = bounded(raw, 64)?;
        if value.chars().any(char::is_whitespace) {
            return Err(Problem::Malformed("an actor id has no spaces".into()));
        }
        Ok(Self(value))
    }
}

impl Text {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        bounded(raw, MAX_TEXT_CHARS).map(Self)
    }
}

impl Label {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        bounded(raw, MAX_LABEL_CHARS).map(Self)
    }
}

/// A count of parts: 1 to 9,999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 9_999;

    pub fn new(raw: i64) -> Result<Self, Problem> {
        match u32::try_from(raw) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(Problem::OutOfRange {
                min: 1,
                max: i64::from(Self::MAX),
            }),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Labour time, kept in whole minutes: 1 minute to 1,000 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hours(u32);

impl Hours {
    pub const MAX_MINUTES: u32 = 60_000;

    pub fn from_minutes(raw: i64) -> Result<Self, Problem> {
        match u32::try_from(raw) {
            Ok(n) if (1..=Self::MAX_MINUTES).contains(&n) => Ok(Self(n)),
            _ => Err(Problem::OutOfRange {
                min: 1,
                max: i64::from(Self::MAX_MINUTES),
            }),
        }
    }

    pub fn minutes(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_serial_number_is_rejected() {
        assert_eq!(SerialNumber::parse("   "), Err(Problem::Empty));
    }

    #[test]
    fn serial_number_with_spaces_inside_is_malformed() {
        assert!(matches!(
            SerialNumber::parse("AB 12"),
            Err(Problem::Malformed(_))
        ));
    }

    #[test]
    fn serial_number_is_trimmed() {
        assert_eq!(
            SerialNumber::parse(" SN-001 ").map(|s| s.to_string()),
            Ok("SN-001".into())
        );
    }

    #[test]
    fn part_number_longer_than_40_is_too_long() {
        assert_eq!(
            PartNumber::parse(&"P".repeat(41)),
            Err(Problem::TooLong { max: 40 })
        );
    }

    #[test]
    fn phone_number_needs_five_digits() {
        assert!(PhoneNumber::parse("+86 12").is_err());
        assert!(PhoneNumber::parse("+86 138-0013-8000").is_ok());
    }

    #[test]
    fn phone_number_rejects_letters() {
        assert!(PhoneNumber::parse("138abc00138").is_err());
    }

    #[test]
    fn negative_quantity_is_out_of_range() {
        assert_eq!(
            Quantity::new(-1),
            Err(Problem::OutOfRange { min: 1, max: 9_999 })
        );
        assert_eq!(
            Quantity::new(0),
            Err(Problem::OutOfRange { min: 1, max: 9_999 })
        );
        assert_eq!(Quantity::new(9_999).map(Quantity::get), Ok(9_999));
    }

    #[test]
    fn zero_hours_are_out_of_range() {
        assert!(Hours::from_minutes(0).is_err());
        assert!(Hours::from_minutes(60_001).is_err());
        assert_eq!(Hours::from_minutes(90).map(Hours::minutes), Ok(90));
    }

    #[test]
    fn oversized_text_is_too_long() {
        let long = "字".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            Text::parse(&long),
            Err(Problem::TooLong {
                max: MAX_TEXT_CHARS
            })
        );
        assert!(Text::parse(&"字".repeat(MAX_TEXT_CHARS)).is_ok());
    }

    #[test]
    fn problem_at_names_the_field() {
        let err = Problem::Empty.at("product.serial_number");
        assert_eq!(err.to_string(), "product.serial_number must not be empty");
    }
}
