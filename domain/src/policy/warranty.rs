//! Warranty status and the 三包 remedy windows (DOMAIN.md §4).

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarrantyStatus {
    InWarranty,
    OutOfWarranty,
    ServiceContract,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarrantyBasis {
    PurchaseDate,
    InstallationDate,
    ServiceContract,
    NoProofOfPurchase,
}

/// The strongest 三包 remedy still open to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    None,
    Repair,
    Exchange,
    Return,
}

/// Warranty terms of one product line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLineTerms {
    pub warranty_months: u32,
    /// Count the warranty from the installed-at date where the line says so.
    pub from_installation: bool,
}

/// Configurable warranty rules. The defaults follow the common national 三包
/// rule: 7 days return, 15 days exchange, exchange after two failed repairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrantyPolicy {
    pub default_terms: ProductLineTerms,
    pub product_lines: BTreeMap<String, ProductLineTerms>,
    pub return_window_days: i64,
    pub exchange_window_days: i64,
    pub failed_repairs_for_exchange: u32,
}

impl Default for WarrantyPolicy {
    fn default() -> Self {
        Self {
            default_terms: ProductLineTerms {
                warranty_months: 12,
                from_installation: false,
            },
            product_lines: BTreeMap::new(),
            return_window_days: 7,
            exchange_window_days: 15,
            failed_repairs_for_exchange: 2,
        }
    }
}

/// What the warranty check decided for one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrantyDecision {
    pub status: WarrantyStatus,
    pub basis: WarrantyBasis,
    pub remedy: Remedy,
    /// Last day covered, where a warranty period applies.
    pub covered_until: Option<NaiveDate>,
}

impl WarrantyDecision {
    /// The company bears the cost (before misuse is taken into account).
    pub fn covers_cost(&self) -> bool {
        matches!(
            self.status,
            WarrantyStatus::InWarranty | WarrantyStatus::ServiceContract
        )
    }
}

/// The facts about the product the decision rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarrantyFacts<'a> {
    pub product_line: &'a str,
    pub purchased_on: Option<NaiveDate>,
    pub installed_on: Option<NaiveDate>,
    pub proof_of_purchase: bool,
    pub service_contract: bool,
    /// The day the fault was reported (the ticket's received date).
    pub reported_on: NaiveDate,
}

impl WarrantyPolicy {
    pub fn terms_for(&self, product_line: &str) -> ProductLineTerms {
        self.product_lines
            .get(product_line)
            .copied()
            .unwrap_or(self.default_terms)
    }

    /// Decides warranty status, basis and the open 三包 remedy.
    ///
    /// Windows count calendar days from the purchase date: a fault reported on
    /// day 7 after sale may still be returned, on day 8 it may be exchanged,
    /// on day 16 only repaired.
    pub fn determine(&self, facts: &WarrantyFacts<'_>) -> WarrantyDecision {
        if facts.service_contract {
            return WarrantyDecision {
                status: WarrantyStatus::ServiceContract,
                basis: WarrantyBasis::ServiceContract,
                remedy: Remedy::Repair,
                covered_until: None,
            };
        }
        let purchased_on = match (facts.proof_of_purchase, facts.purchased_on) {
            (true, Some(date)) => date,
            _ => {
                return WarrantyDecision {
                    status: WarrantyStatus::OutOfWarranty,
                    basis: WarrantyBasis::NoProofOfPurchase,
                    remedy: Remedy::None,
                    covered_until: None,
                }
            }
        };
        let terms = self.terms_for(facts.product_line);
        let (start, basis) = match (terms.from_installation, facts.installed_on) {
            (true, Some(installed)) => (installed, WarrantyBasis::InstallationDate),
            _ => (purchased_on, WarrantyBasis::PurchaseDate),
        };
        let end_exclusive = start
            .checked_add_months(Months::new(terms.warranty_months))
            .unwrap_or(NaiveDate::MAX);
        let covered_until = end_exclusive.pred_opt();
        if facts.reported_on >= end_exclusive {
            return WarrantyDecision {
                status: WarrantyStatus::OutOfWarranty,
                basis,
                remedy: Remedy::None,
                covered_until,
            };
        }
        let days_since_sale = (facts.reported_on - purchased_on).num_days();
        let remedy = if days_since_sale <= self.return_window_days {
            Remedy::Return
        } else if days_since_sale <= self.exchange_window_days {
            Remedy::Exchange
        } else {
            Remedy::Repair
        };
        WarrantyDecision {
            status: WarrantyStatus::InWarranty,
            basis,
            remedy,
            covered_until,
        }
    }

    /// After enough failed repairs of the same fault an in-warranty customer
    /// may have an exchange even outside the 15-day window.
    pub fn remedy_after_failed_repairs(&self, decision: &WarrantyDecision, failed: u32) -> Remedy {
        if decision.status == WarrantyStatus::InWarranty
            && failed >= self.failed_repairs_for_exchange
        {
            decision.remedy.max(Remedy::Exchange)
        } else {
            decision.remedy
        }
    }
}

/// Who pays: the customer when out of warranty (or without proof), or when
/// the fault is customer-caused even in warranty.
pub fn is_chargeable(decision: &WarrantyDecision, customer_caused: bool) -> bool {
    !decision.covers_cost() || customer_caused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn facts(purchased: NaiveDate, reported: NaiveDate) -> WarrantyFacts<'static> {
        WarrantyFacts {
            product_line: "washer",
            purchased_on: Some(purchased),
            installed_on: None,
            proof_of_purchase: true,
            service_contract: false,
            reported_on: reported,
        }
    }

    #[test]
    fn fault_on_day_7_after_sale_may_be_returned() {
        let d = WarrantyPolicy::default().determine(&facts(day(2026, 3, 1), day(2026, 3, 8)));
        assert_eq!(d.remedy, Remedy::Return);
        assert_eq!(d.status, WarrantyStatus::InWarranty);
    }

    #[test]
    fn fault_on_day_8_after_sale_may_be_exchanged_not_returned() {
        let d = WarrantyPolicy::default().determine(&facts(day(2026, 3, 1), day(2026, 3, 9)));
        assert_eq!(d.remedy, Remedy::Exchange);
    }

    #[test]
    fn fault_on_day_15_after_sale_may_still_be_exchanged() {
        let d = WarrantyPolicy::default().determine(&facts(day(2026, 3, 1), day(2026, 3, 16)));
        assert_eq!(d.remedy, Remedy::Exchange);
    }

    #[test]
    fn fault_on_day_16_after_sale_is_repaired_within_warranty() {
        let d = WarrantyPolicy::default().determine(&facts(day(2026, 3, 1), day(2026, 3, 17)));
        assert_eq!(d.remedy, Remedy::Repair);
        assert_eq!(d.status, WarrantyStatus::InWarranty);
    }

    #[test]
    fn windows_count_calendar_days_across_a_holiday() {
        // Bought the day before the 2026 Spring Festival break; day 7 is inside it.
        let d = WarrantyPolicy::default().determine(&facts(day(2026, 2, 14), day(2026, 2, 21)));
        assert_eq!(d.remedy, Remedy::Return);
    }

    #[test]
    fn last_day_of_a_twelve_month_warranty_is_covered_and_the_next_is_not() {
        let policy = WarrantyPolicy::default();
        let last = policy.determine(&facts(day(2025, 3, 1), day(2026, 2, 28)));
        assert_eq!(last.status, WarrantyStatus::InWarranty);
        assert_eq!(last.covered_until, Some(day(2026, 2, 28)));
        let after = policy.determine(&facts(day(2025, 3, 1), day(2026, 3, 1)));
        assert_eq!(after.status, WarrantyStatus::OutOfWarranty);
        assert_eq!(after.remedy, Remedy::None);
    }

    #[test]
    fn warranty_length_is_per_product_line() {
        let mut policy = WarrantyPolicy::default();
        policy.product_lines.insert(
            "small-appliance".into(),
            ProductLineTerms {
                warranty_months: 3,
                from_installation: false,
            },
        );
        let mut f = facts(day(2026, 1, 1), day(2026, 4, 2));
        assert_eq!(policy.determine(&f).status, WarrantyStatus::InWarranty);
        f.product_line = "small-appliance";
        assert_eq!(policy.determine(&f).status, WarrantyStatus::OutOfWarranty);
    }

    #[test]
    fn installed_products_count_from_installation_where_the_line_says_so() {
        let mut policy = WarrantyPolicy::default();
        policy.product_lines.insert(
            "boiler".into(),
            ProductLineTerms {
                warranty_months: 120,
                from_installation: true,
            },
        );
        let mut f = facts(day(2016, 1, 1), day(2026, 3, 1));
        f.product_line = "boiler";
        f.installed_on = Some(day(2016, 6, 1));
        let d = policy.determine(&f);
        assert_eq!(d.status, WarrantyStatus::InWarranty);
        assert_eq!(d.basis, WarrantyBasis::InstallationDate);
    }

    #[test]
    fn no_proof_of_purchase_is_out_of_warranty() {
        let mut f = facts(day(2026, 3, 1), day(2026, 3, 2));
        f.proof_of_purchase = false;
        let d = WarrantyPolicy::default().determine(&f);
        assert_eq!(d.status, WarrantyStatus::OutOfWarranty);
        assert_eq!(d.basis, WarrantyBasis::NoProofOfPurchase);
        assert_eq!(d.remedy, Remedy::None);
    }

    #[test]
    fn misuse_is_chargeable_even_in_warranty() {
        let d = WarrantyPolicy::default().determine(&facts(day(2026, 3, 1), day(2026, 3, 20)));
        assert!(!is_chargeable(&d, false));
        assert!(is_chargeable(&d, true));
    }

    #[test]
    fn service_contract_covers_cost_but_opens_no_return() {
        let mut f = facts(day(2020, 1, 1), day(2026, 3, 1));
        f.service_contract = true;
        let d = WarrantyPolicy::default().determine(&f);
        assert_eq!(d.status, WarrantyStatus::ServiceContract);
        assert!(!is_chargeable(&d, false));
    }

    #[test]
    fn two_failed_repairs_open_an_exchange() {
        let policy = WarrantyPolicy::default();
        let d = policy.determine(&facts(day(2026, 1, 1), day(2026, 6, 1)));
        assert_eq!(policy.remedy_after_failed_repairs(&d, 1), Remedy::Repair);
        assert_eq!(policy.remedy_after_failed_repairs(&d, 2), Remedy::Exchange);
    }
}
