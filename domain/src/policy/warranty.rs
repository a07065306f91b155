//! Warranty status and the 三包 remedy windows (DOMAIN.md §4).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::cost::CostRates;
use crate::period::{self, Counting, Length, RestDays};

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

impl std::fmt::Display for Remedy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Remedy::None => "none",
            Remedy::Repair => "repair",
            Remedy::Exchange => "exchange",
            Remedy::Return => "return",
        })
    }
}

/// Where a warranty period starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountFrom {
    Purchase,
    /// The installed-at date, where the ticket has one (else the purchase).
    Installation,
}

/// Warranty terms of one product line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLineTerms {
    pub warranty_months: u32,
    pub count_from: CountFrom,
    /// Whether the 三包 return and exchange windows apply to the line.
    pub three_guarantees: bool,
    /// Days after delivery in which a same-fault reopen is a free rework.
    pub repair_guarantee_days: u32,
}

/// A product line of the company's policy: which products it covers (by
/// the ticket's product line, by model prefix, or both) and its terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLine {
    pub name: String,
    /// Matches a ticket whose product line is exactly this.
    pub line: Option<String>,
    /// Matches a ticket whose product model starts with this.
    pub model_prefix: Option<String>,
    pub terms: ProductLineTerms,
    /// The line's own cost rates, where they differ from the company's.
    pub costs: Option<CostRates>,
}

impl ProductLine {
    /// Every criterion the line gives must hold (a line gives at least one).
    pub fn matches(&self, line: &str, model: &str) -> bool {
        self.line.as_deref().is_none_or(|l| l == line)
            && self
                .model_prefix
                .as_deref()
                .is_none_or(|p| model.starts_with(p))
    }
}

/// The terms a warranty decision applied, recorded in its event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedTerms {
    /// The policy's product line that matched, or `default`.
    pub product_line: String,
    pub terms: ProductLineTerms,
    /// Failed repairs of one fault that open an exchange, as the policy in
    /// force said (absent in decisions recorded before it was recorded:
    /// the policy of the day applies to those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_repairs_for_exchange: Option<u32>,
}

/// The company's warranty rules: default terms, product lines (the first
/// that matches a product wins) and the 三包 windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrantyPolicy {
    pub default_terms: ProductLineTerms,
    pub product_lines: Vec<ProductLine>,
    pub return_window_days: i64,
    pub exchange_window_days: i64,
    pub failed_repairs_for_exchange: u32,
    /// How the company's own periods (warranty, repair guarantee) count:
    /// the Civil Code's way unless its terms say otherwise (art. 204).
    #[serde(default)]
    pub counting: Counting,
}

/// What the warranty check decided for one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrantyDecision {
    pub status: WarrantyStatus,
    pub basis: WarrantyBasis,
    pub remedy: Remedy,
    /// Last day covered, where a warranty period applies.
    pub covered_until: Option<NaiveDate>,
    /// The terms applied (absent in decisions recorded before policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<AppliedTerms>,
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
    pub product_model: &'a str,
    pub purchased_on: Option<NaiveDate>,
    pub installed_on: Option<NaiveDate>,
    pub proof_of_purchase: bool,
    pub service_contract: bool,
    /// The day the fault was reported (the ticket's received date).
    pub reported_on: NaiveDate,
    /// The site's rest days: a period ending on one runs to the next
    /// working day.
    pub rest_days: &'a RestDays,
}

impl WarrantyPolicy {
    /// The first product line that matches, if any.
    pub fn line_for(&self, product_line: &str, model: &str) -> Option<&ProductLine> {
        self.product_lines
            .iter()
            .find(|l| l.matches(product_line, model))
    }

    /// The terms for a product, with the name of the line they come from.
    pub fn terms_for(&self, product_line: &str, model: &str) -> AppliedTerms {
        match self.line_for(product_line, model) {
            Some(line) => AppliedTerms {
                product_line: line.name.clone(),
                terms: line.terms,
                failed_repairs_for_exchange: Some(self.failed_repairs_for_exchange),
            },
            None => AppliedTerms {
                product_line: "default".to_owned(),
                terms: self.default_terms,
                failed_repairs_for_exchange: Some(self.failed_repairs_for_exchange),
            },
        }
    }

    /// Decides warranty status, basis and the open 三包 remedy.
    ///
    /// Every period counts as the Civil Code does ([`period`]): the 三包
    /// windows from the day after sale (a fault reported on day 7 may still
    /// be returned, on day 8 exchanged, on day 16 only repaired), and a
    /// window or warranty whose last day is a rest day runs to the next
    /// working day. The warranty counts as the policy's `counting` says.
    pub fn determine(&self, facts: &WarrantyFacts<'_>) -> WarrantyDecision {
        let applied = self.terms_for(facts.product_line, facts.product_model);
        let terms = applied.terms;
        let applied = Some(applied);
        if facts.service_contract {
            return WarrantyDecision {
                status: WarrantyStatus::ServiceContract,
                basis: WarrantyBasis::ServiceContract,
                remedy: Remedy::Repair,
                covered_until: None,
                applied,
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
                    applied,
                }
            }
        };
        let (start, basis) = match (terms.count_from, facts.installed_on) {
            (CountFrom::Installation, Some(installed)) => {
                (installed, WarrantyBasis::InstallationDate)
            }
            _ => (purchased_on, WarrantyBasis::PurchaseDate),
        };
        let last = period::last_day(
            start,
            Length::Months(terms.warranty_months),
            self.counting,
            facts.rest_days,
        );
        let covered_until = Some(last);
        if facts.reported_on > last {
            return WarrantyDecision {
                status: WarrantyStatus::OutOfWarranty,
                basis,
                remedy: Remedy::None,
                covered_until,
                applied,
            };
        }
        // The 三包 windows are the law's: always counted its way.
        let since_sale = |days: i64| {
            let days = Length::Days(u32::try_from(days).unwrap_or(0));
            period::within(
                facts.reported_on,
                purchased_on,
                days,
                Counting::CivilCode,
                facts.rest_days,
            )
        };
        let remedy = if !terms.three_guarantees {
            Remedy::Repair
        } else if since_sale(self.return_window_days) {
            Remedy::Return
        } else if since_sale(self.exchange_window_days) {
            Remedy::Exchange
        } else {
            Remedy::Repair
        };
        WarrantyDecision {
            status: WarrantyStatus::InWarranty,
            basis,
            remedy,
            covered_until,
            applied,
        }
    }

    /// Failed repairs of one fault that open an exchange for `decision`:
    /// the number its policy recorded, else (decisions recorded before)
    /// this policy's.
    pub fn exchange_threshold(&self, decision: &WarrantyDecision) -> u32 {
        decision
            .applied
            .as_ref()
            .and_then(|a| a.failed_repairs_for_exchange)
            .unwrap_or(self.failed_repairs_for_exchange)
    }

    /// After enough failed repairs of the same fault an in-warranty customer
    /// may have an exchange even outside the 15-day window.
    pub fn remedy_after_failed_repairs(&self, decision: &WarrantyDecision, failed: u32) -> Remedy {
        let three_guarantees = decision
            .applied
            .as_ref()
            .is_none_or(|a| a.terms.three_guarantees);
        if decision.status == WarrantyStatus::InWarranty
            && three_guarantees
            && failed >= self.exchange_threshold(decision)
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

    fn builtin() -> WarrantyPolicy {
        crate::ticket::Policies::builtin().warranty
    }

    fn line(name: &str, months: u32, count_from: CountFrom) -> ProductLine {
        ProductLine {
            name: name.into(),
            line: Some(name.into()),
            model_prefix: None,
            terms: ProductLineTerms {
                warranty_months: months,
                count_from,
                three_guarantees: true,
                repair_guarantee_days: 90,
            },
            costs: None,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn facts(purchased: NaiveDate, reported: NaiveDate) -> WarrantyFacts<'static> {
        WarrantyFacts {
            product_line: "washer",
            product_model: "WM-800",
            purchased_on: Some(purchased),
            installed_on: None,
            proof_of_purchase: true,
            service_contract: false,
            reported_on: reported,
            rest_days: &crate::period::WEEKENDS_ONLY,
        }
    }

    // Sold on Tuesday 2026-03-03: the day of sale is not counted, and no
    // window below ends on a weekend.
    #[test]
    fn fault_on_day_7_after_sale_may_be_returned() {
        let d = builtin().determine(&facts(day(2026, 3, 3), day(2026, 3, 10)));
        assert_eq!(d.remedy, Remedy::Return);
        assert_eq!(d.status, WarrantyStatus::InWarranty);
    }

    #[test]
    fn fault_on_day_8_after_sale_may_be_exchanged_not_returned() {
        let d = builtin().determine(&facts(day(2026, 3, 3), day(2026, 3, 11)));
        assert_eq!(d.remedy, Remedy::Exchange);
    }

    #[test]
    fn fault_on_day_15_after_sale_may_still_be_exchanged() {
        let d = builtin().determine(&facts(day(2026, 3, 3), day(2026, 3, 18)));
        assert_eq!(d.remedy, Remedy::Exchange);
    }

    #[test]
    fn fault_on_day_16_after_sale_is_repaired_within_warranty() {
        let d = builtin().determine(&facts(day(2026, 3, 3), day(2026, 3, 19)));
        assert_eq!(d.remedy, Remedy::Repair);
        assert_eq!(d.status, WarrantyStatus::InWarranty);
    }

    #[test]
    fn windows_count_calendar_days_across_a_holiday() {
        // Bought the day before the 2026 Spring Festival break; day 7 is inside it.
        let d = builtin().determine(&facts(day(2026, 2, 14), day(2026, 2, 21)));
        assert_eq!(d.remedy, Remedy::Return);
    }

    #[test]
    fn a_twelve_month_warranty_ends_on_the_corresponding_day_moved_off_the_weekend() {
        // From 2025-03-01: 2026-03-01 is a Sunday, so Monday is covered too.
        let policy = builtin();
        let last = policy.determine(&facts(day(2025, 3, 1), day(2026, 3, 2)));
        assert_eq!(last.status, WarrantyStatus::InWarranty);
        assert_eq!(last.covered_until, Some(day(2026, 3, 2)));
        let after = policy.determine(&facts(day(2025, 3, 1), day(2026, 3, 3)));
        assert_eq!(after.status, WarrantyStatus::OutOfWarranty);
        assert_eq!(after.remedy, Remedy::None);
    }

    #[test]
    fn terms_that_count_the_start_day_end_the_day_before_and_never_move() {
        let mut policy = builtin();
        policy.counting = Counting::StartDayCounted;
        let last = policy.determine(&facts(day(2025, 3, 1), day(2026, 2, 28)));
        assert_eq!(last.covered_until, Some(day(2026, 2, 28)));
        let after = policy.determine(&facts(day(2025, 3, 1), day(2026, 3, 1)));
        assert_eq!(after.status, WarrantyStatus::OutOfWarranty);
    }

    #[test]
    fn a_return_window_ending_on_a_holiday_runs_to_the_next_working_day() {
        // Sale 2026-09-28; day 7 (10-05) falls in National Day, Oct 1-7.
        let holidays = day(2026, 10, 1).iter_days().take(7).collect();
        let rest = RestDays::new(holidays, std::collections::BTreeSet::new());
        let policy = builtin();
        let on = |reported| {
            let mut f = facts(day(2026, 9, 28), reported);
            f.rest_days = &rest;
            policy.determine(&f).remedy
        };
        assert_eq!(on(day(2026, 10, 8)), Remedy::Return);
        assert_eq!(on(day(2026, 10, 9)), Remedy::Exchange);
    }

    #[test]
    fn warranty_length_is_per_product_line() {
        let mut policy = builtin();
        policy
            .product_lines
            .push(line("small-appliance", 3, CountFrom::Purchase));
        let mut f = facts(day(2026, 1, 1), day(2026, 4, 2));
        assert_eq!(policy.determine(&f).status, WarrantyStatus::InWarranty);
        f.product_line = "small-appliance";
        assert_eq!(policy.determine(&f).status, WarrantyStatus::OutOfWarranty);
    }

    #[test]
    fn installed_products_count_from_installation_where_the_line_says_so() {
        let mut policy = builtin();
        policy
            .product_lines
            .push(line("boiler", 120, CountFrom::Installation));
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
        let d = builtin().determine(&f);
        assert_eq!(d.status, WarrantyStatus::OutOfWarranty);
        assert_eq!(d.basis, WarrantyBasis::NoProofOfPurchase);
        assert_eq!(d.remedy, Remedy::None);
    }

    #[test]
    fn misuse_is_chargeable_even_in_warranty() {
        let d = builtin().determine(&facts(day(2026, 3, 1), day(2026, 3, 20)));
        assert!(!is_chargeable(&d, false));
        assert!(is_chargeable(&d, true));
    }

    #[test]
    fn service_contract_covers_cost_but_opens_no_return() {
        let mut f = facts(day(2020, 1, 1), day(2026, 3, 1));
        f.service_contract = true;
        let d = builtin().determine(&f);
        assert_eq!(d.status, WarrantyStatus::ServiceContract);
        assert!(!is_chargeable(&d, false));
    }

    #[test]
    fn two_failed_repairs_open_an_exchange() {
        let policy = builtin();
        let d = policy.determine(&facts(day(2026, 1, 1), day(2026, 6, 1)));
        assert_eq!(policy.remedy_after_failed_repairs(&d, 1), Remedy::Repair);
        assert_eq!(policy.remedy_after_failed_repairs(&d, 2), Remedy::Exchange);
    }
}

#[cfg(test)]
#[path = "warranty_tests.rs"]
mod more_tests;
