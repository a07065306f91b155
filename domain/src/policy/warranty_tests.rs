//! Product lines from the company's policy: matching and recorded terms.

use chrono::NaiveDate;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn terms(months: u32, three_guarantees: bool) -> ProductLineTerms {
    ProductLineTerms {
        warranty_months: months,
        count_from: CountFrom::Purchase,
        three_guarantees,
        repair_guarantee_days: 90,
    }
}

fn policy_with(lines: Vec<ProductLine>) -> WarrantyPolicy {
    let mut policy = crate::ticket::Policies::builtin().warranty;
    policy.product_lines = lines;
    policy
}

fn facts<'a>(line: &'a str, model: &'a str, reported_on: NaiveDate) -> WarrantyFacts<'a> {
    WarrantyFacts {
        product_line: line,
        product_model: model,
        purchased_on: Some(day(2021, 3, 1)),
        installed_on: None,
        proof_of_purchase: true,
        service_contract: false,
        reported_on,
        rest_days: &crate::period::WEEKENDS_ONLY,
    }
}

#[test]
fn a_ten_year_line_is_in_warranty_in_year_five_while_a_twelve_month_line_is_not() {
    let policy = policy_with(vec![ProductLine {
        name: "office furniture".into(),
        line: Some("furniture".into()),
        model_prefix: None,
        terms: terms(120, true),
        costs: None,
    }]);
    let year_five = day(2025, 6, 1);

    let furniture = policy.determine(&facts("furniture", "JM-DESK-1", year_five));
    let washer = policy.determine(&facts("washer", "WM-800", year_five));

    assert_eq!(furniture.status, WarrantyStatus::InWarranty);
    assert_eq!(washer.status, WarrantyStatus::OutOfWarranty);
}

#[test]
fn a_decision_records_the_line_and_the_months_it_applied() {
    let policy = policy_with(vec![ProductLine {
        name: "boilers".into(),
        line: None,
        model_prefix: Some("BX-".into()),
        terms: terms(120, true),
        costs: None,
    }]);

    let boiler = policy.determine(&facts("heating", "BX-24", day(2022, 1, 1)));
    let other = policy.determine(&facts("heating", "HX-24", day(2022, 1, 1)));

    let applied = boiler.applied.expect("terms recorded");
    assert_eq!(applied.product_line, "boilers");
    assert_eq!(applied.terms.warranty_months, 120);
    assert_eq!(
        other.applied.expect("terms recorded").product_line,
        "default"
    );
}

#[test]
fn a_line_that_names_both_line_and_prefix_needs_both_to_match() {
    let line = ProductLine {
        name: "premium washers".into(),
        line: Some("washer".into()),
        model_prefix: Some("WM-9".into()),
        terms: terms(36, true),
        costs: None,
    };

    assert!(line.matches("washer", "WM-900"));
    assert!(!line.matches("washer", "WM-800"));
    assert!(!line.matches("dryer", "WM-900"));
}

#[test]
fn the_first_matching_line_wins() {
    let first = ProductLine {
        name: "first".into(),
        line: Some("washer".into()),
        model_prefix: None,
        terms: terms(24, true),
        costs: None,
    };
    let second = ProductLine {
        name: "second".into(),
        ..first.clone()
    };
    let policy = policy_with(vec![first, second]);

    assert_eq!(policy.terms_for("washer", "WM-1").product_line, "first");
}

#[test]
fn a_line_without_three_guarantees_offers_repair_only_even_on_day_one() {
    let policy = policy_with(vec![ProductLine {
        name: "projects".into(),
        line: Some("project".into()),
        model_prefix: None,
        terms: terms(12, false),
        costs: None,
    }]);
    let mut f = facts("project", "P-1", day(2021, 3, 2));

    let decision = policy.determine(&f);
    assert_eq!(decision.remedy, Remedy::Repair);
    assert_eq!(
        policy.remedy_after_failed_repairs(&decision, 5),
        Remedy::Repair
    );

    f.product_line = "washer";
    assert_eq!(policy.determine(&f).remedy, Remedy::Return);
}
