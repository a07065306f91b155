//! Value shapes shared by commands, events and the ticket state.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError};
use crate::personal::{CustomerId, Personal};
use crate::values::{Hours, Label, PartNumber, PhoneNumber, Quantity, SerialNumber};

macro_rules! snake_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use snake_enum;

snake_enum!(
    /// How the request reached us.
    Channel { Phone => "phone", Letter => "letter", Visit => "visit", Online => "online", Store => "store" }
);
snake_enum!(TicketKind {
    Repair => "repair",
    Complaint => "complaint",
    Inquiry => "inquiry",
    Maintenance => "maintenance",
    Installation => "installation",
});
snake_enum!(Region { Urban => "urban", Suburban => "suburban", Remote => "remote" });
snake_enum!(Priority { Urgent => "urgent", Normal => "normal" });
snake_enum!(ServiceMode { Phone => "phone", OnSite => "on_site", MailIn => "mail_in", Exchange => "exchange" });
snake_enum!(RootCause {
    Design => "design",
    Material => "material",
    Manufacturing => "manufacturing",
    Assembly => "assembly",
    SupplierPart => "supplier_part",
    Transport => "transport",
    Packaging => "packaging",
    Misuse => "misuse",
    Wear => "wear",
    NoFaultFound => "no_fault_found",
    Unknown => "unknown",
});
snake_enum!(
    /// The way the diagnosis decided to fix the fault.
    RepairPath {
        RemoteFix => "remote_fix",
        OnSiteRepair => "on_site_repair",
        WorkshopRepair => "workshop_repair",
        ReturnToFactory => "return_to_factory",
        Exchange => "exchange",
        Refund => "refund",
    }
);
snake_enum!(OldPartDisposition {
    ReturnedToCustomer => "returned_to_customer",
    RecoveredReusable => "recovered_reusable",
    Scrapped => "scrapped",
});
snake_enum!(FactoryRequest { Repair => "repair", Exchange => "exchange" });
snake_enum!(
    /// What came back from the factory.
    FactoryOutcome { Repaired => "repaired", ExchangeAgreed => "exchange_agreed", Refused => "refused" }
);
snake_enum!(
    /// One answer on the revisit form, from best to worst.
    SatisfactionLevel {
        VerySatisfied => "very_satisfied",
        Satisfied => "satisfied",
        Fair => "fair",
        Dissatisfied => "dissatisfied",
    }
);

impl SatisfactionLevel {
    /// Points out of 100 used for the satisfied/unsatisfied cut-off.
    pub fn score(self) -> u32 {
        match self {
            SatisfactionLevel::VerySatisfied => 100,
            SatisfactionLevel::Satisfied => 85,
            SatisfactionLevel::Fair => 60,
            SatisfactionLevel::Dissatisfied => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Given by ticketd on first contact (`None` in events stored before
    /// personal data was sealed, and in a command before ticketd gives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<CustomerId>,
    pub name: Personal<Label>,
    pub phone: Personal<PhoneNumber>,
    pub address: Personal<Label>,
    pub region: Region,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Product line; selects the warranty terms.
    pub line: Label,
    pub model: Label,
    pub serial: SerialNumber,
    pub batch: Option<Label>,
    pub purchased_on: Option<NaiveDate>,
    pub proof_of_purchase: bool,
    pub installed_on: Option<NaiveDate>,
}

snake_enum!(QuoteLineKind {
    Parts => "parts",
    Labour => "labour",
    Travel => "travel",
    Shipping => "shipping",
    FactoryRepairFee => "factory_repair_fee",
    ExpediteFee => "expedite_fee",
});

/// One line of a quote. Parts carry a part number and quantity, labour a
/// duration and hourly rate; the flat fees an amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuoteLine {
    Parts {
        part_number: PartNumber,
        quantity: Quantity,
        unit_price: Money,
    },
    Labour {
        hours: Hours,
        hourly_rate: Money,
    },
    Travel {
        amount: Money,
    },
    Shipping {
        amount: Money,
    },
    FactoryRepairFee {
        amount: Money,
    },
    ExpediteFee {
        amount: Money,
    },
}

impl QuoteLine {
    pub fn kind(&self) -> QuoteLineKind {
        match self {
            QuoteLine::Parts { .. } => QuoteLineKind::Parts,
            QuoteLine::Labour { .. } => QuoteLineKind::Labour,
            QuoteLine::Travel { .. } => QuoteLineKind::Travel,
            QuoteLine::Shipping { .. } => QuoteLineKind::Shipping,
            QuoteLine::FactoryRepairFee { .. } => QuoteLineKind::FactoryRepairFee,
            QuoteLine::ExpediteFee { .. } => QuoteLineKind::ExpediteFee,
        }
    }

    pub fn total(&self) -> Result<Money, MoneyError> {
        match self {
            QuoteLine::Parts {
                quantity,
                unit_price,
                ..
            } => unit_price.times(*quantity),
            QuoteLine::Labour { hours, hourly_rate } => hourly_rate.per_hour_for(*hours),
            QuoteLine::Travel { amount }
            | QuoteLine::Shipping { amount }
            | QuoteLine::FactoryRepairFee { amount }
            | QuoteLine::ExpediteFee { amount } => Ok(amount.clone()),
        }
    }
}

/// A part used in a repair and what became of the old one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartUsed {
    pub part_number: PartNumber,
    pub quantity: Quantity,
    pub unit_cost: Money,
    pub old_part: OldPartDisposition,
}

/// The four revisit questions (001 篇十四 第十九条).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Satisfaction {
    pub attitude: SatisfactionLevel,
    pub skill: SatisfactionLevel,
    pub arrival_time: SatisfactionLevel,
    pub promises_kept: SatisfactionLevel,
}

impl Satisfaction {
    /// Average of the four items, in points out of 100, rounded down.
    pub fn average_score(&self) -> u32 {
        (self.attitude.score()
            + self.skill.score()
            + self.arrival_time.score()
            + self.promises_kept.score())
            / 4
    }

    /// Satisfied when the four items average at least 85 (001 篇十 5.2.2).
    pub fn is_satisfied(&self) -> bool {
        self.average_score() >= 85
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_satisfied_averages_85_and_counts_as_satisfied() {
        let s = SatisfactionLevel::Satisfied;
        let form = Satisfaction {
            attitude: s,
            skill: s,
            arrival_time: s,
            promises_kept: s,
        };
        assert_eq!(form.average_score(), 85);
        assert!(form.is_satisfied());
    }

    #[test]
    fn one_fair_answer_among_satisfied_ones_is_not_satisfied() {
        let s = SatisfactionLevel::Satisfied;
        let form = Satisfaction {
            attitude: s,
            skill: s,
            arrival_time: SatisfactionLevel::Fair,
            promises_kept: s,
        };
        assert_eq!(form.average_score(), 78);
        assert!(!form.is_satisfied());
    }

    #[test]
    fn labour_line_total_is_rate_times_hours() {
        let line = QuoteLine::Labour {
            hours: Hours::from_minutes(150).expect("valid"),
            hourly_rate: Money::cny(8_000),
        };
        assert_eq!(line.total(), Ok(Money::cny(20_000)));
    }
}
