//! The policy file: the built-in one, and mistakes named with their line.

use super::*;
use crate::policy::{CostRates, CountFrom};
use crate::ticket::Policies;

fn refused(text: &str) -> Vec<FieldProblem> {
    match parse(text) {
        Ok(_) => panic!("the file should be refused"),
        Err(error) => error.problems().into_iter().cloned().collect(),
    }
}

/// The built-in file with `from` replaced by `to` (exactly once).
fn edited(from: &str, to: &str) -> String {
    assert_eq!(BUILTIN.matches(from).count(), 1, "{from:?} occurs once");
    BUILTIN.replace(from, to)
}

fn line_containing(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .expect("needle present")
}

#[test]
fn the_built_in_policy_has_the_defaults_of_the_domain() {
    let p = Policies::builtin();

    assert_eq!(p.version.label, "builtin-1");
    assert_eq!(p.version.digest, digest(BUILTIN.as_bytes()));
    assert_eq!(p.warranty.default_terms.warranty_months, 12);
    assert_eq!(p.warranty.default_terms.repair_guarantee_days, 90);
    assert_eq!(p.warranty.return_window_days, 7);
    assert_eq!(p.warranty.exchange_window_days, 15);
    assert!(p.warranty.product_lines.is_empty());
    assert_eq!(p.costs, CostRates::before_policy());
    assert_eq!(p.utc_offset_minutes, 8 * 60);
    let froms: Vec<i64> = p.approval.tiers.iter().map(|t| t.from.minor()).collect();
    assert_eq!(froms, vec![0, 100_000, 500_000]);
}

#[test]
fn the_commented_product_line_examples_parse_when_uncommented() {
    let start = BUILTIN.find("# [[product_line]]").expect("examples");
    let examples: String = BUILTIN[start..]
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = format!("{}{examples}", &BUILTIN[..start]);

    let p = parse(&text).expect("examples parse");

    let furniture = &p.warranty.product_lines[0];
    assert_eq!(furniture.terms.warranty_months, 120);
    assert_eq!(furniture.terms.count_from, CountFrom::Installation);
    let rates = furniture.costs.as_ref().expect("own rates");
    assert_eq!(rates.labour_per_hour.minor(), 12_000);
    assert_eq!(rates.travel_remote.minor(), 35_000);
    assert_eq!(rates.travel_urban.minor(), 5_000);
    assert_eq!(p.warranty.product_lines[1].terms.warranty_months, 3);
    assert_eq!(p.access.rpc.len(), 2, "the [access] example");
    assert_eq!(p.access.import_roles.as_ref().map(Vec::len), Some(3));
}

#[test]
fn a_different_file_has_a_different_digest() {
    let other = edited("version = \"builtin-1\"", "version = \"acme-2026-04\"");

    let p = parse(&other).expect("parses");

    assert_eq!(p.version.label, "acme-2026-04");
    assert_ne!(p.version.digest, Policies::builtin().version.digest);
}

#[test]
fn a_value_of_the_wrong_type_is_refused_naming_the_field_and_line() {
    let text = edited("warranty_months = 12\n", "warranty_months = \"twelve\"\n");

    let problems = refused(&text);

    assert_eq!(problems[0].field, "default_product.warranty_months");
    assert_eq!(problems[0].line, line_containing(&text, "\"twelve\""));
}

#[test]
fn a_problem_names_the_line_and_column_of_the_value() {
    let text = edited("warranty_months = 12\n", "warranty_months = -6\n");

    let problems = refused(&text);

    // `warranty_months = -6`: the value starts at column 19.
    let line = line_containing(&text, "-6");
    assert_eq!((problems[0].line, problems[0].column), (line, 19));
    assert_eq!(
        problems[0].to_string(),
        format!("{line}:19: default_product.warranty_months: must not be negative")
    );
}

#[test]
fn each_problem_is_listed_once_with_the_files_name_in_front() {
    let text = edited("warranty_months = 12\n", "warranty_months = -6\n");
    let refused = parse(&text).expect_err("refused");

    let shown = refused.in_file("acme.toml");

    let line = line_containing(&text, "-6");
    assert_eq!(
        shown,
        format!("acme.toml:{line}:19: default_product.warranty_months: must not be negative")
    );
}

#[test]
fn an_unknown_field_is_refused_naming_it() {
    let text = edited(
        "remote = \"200.00\"",
        "remote = \"200.00\"\nferry = \"80.00\"",
    );

    let problems = refused(&text);

    assert!(problems[0].field.ends_with("ferry"), "{:?}", problems[0]);
    assert!(problems[0].message.contains("unknown field"));
    assert_eq!(problems[0].line, line_containing(&text, "ferry"));
}

#[test]
fn negative_months_are_refused_naming_the_field() {
    let text = edited("warranty_months = 12\n", "warranty_months = -6\n");

    let problems = refused(&text);

    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "default_product.warranty_months");
    assert_eq!(problems[0].message, "must not be negative");
    assert_eq!(problems[0].line, line_containing(&text, "-6"));
}

#[test]
fn overlapping_tiers_are_refused_naming_the_tier() {
    let text = edited("from = \"1000.00\"", "from = \"800.00\"");

    let problems = refused(&text);

    assert_eq!(problems[0].field, "approval.tiers[2].from");
    assert!(problems[0].message.contains("overlaps"));
    assert_eq!(problems[0].line, line_containing(&text, "\"800.00\""));
}

#[test]
fn a_gap_between_tiers_is_refused() {
    let text = edited("from = \"5000.00\"", "from = \"6000.00\"");

    let problems = refused(&text);

    assert_eq!(problems[0].field, "approval.tiers[3].from");
    assert!(problems[0].message.contains("gap"));
}

#[test]
fn every_bad_value_is_listed_not_only_the_first() {
    let text = edited(
        "labour_per_hour = \"80.00\"",
        "labour_per_hour = \"eighty\"",
    )
    .replace("repair_guarantee_days = 90", "repair_guarantee_days = -1")
    .replace(
        "\"general_manager\"]\n\n[[approval",
        "\"gm\"]\n\n[[approval",
    );

    let fields: Vec<String> = refused(&text).into_iter().map(|p| p.field).collect();

    assert!(
        fields.contains(&"costs.labour_per_hour".to_owned()),
        "{fields:?}"
    );
    assert!(fields.contains(&"default_product.repair_guarantee_days".to_owned()));
    assert!(fields.contains(&"approval.tiers[1].waive".to_owned()));
}

#[test]
fn a_product_line_needs_a_line_or_a_model_prefix() {
    let text =
        format!("{BUILTIN}\n[[product_line]]\nname = \"everything\"\nwarranty_months = 24\n");

    let problems = refused(&text);

    assert_eq!(problems[0].field, "product_line[1].line");
}

#[test]
fn a_negative_rate_is_refused() {
    let text = edited(
        "factory_repair_fee = \"300.00\"",
        "factory_repair_fee = \"-300.00\"",
    );

    let problems = refused(&text);

    assert_eq!(problems[0].field, "costs.factory_repair_fee");
    assert_eq!(problems[0].message, "must not be negative");
}

#[test]
fn a_missing_field_is_refused_naming_it() {
    let text = edited("return_window_days = 7\n", "");

    let problems = refused(&text);

    assert!(
        problems[0].field.contains("return_window_days"),
        "{:?}",
        problems[0]
    );
}

#[test]
fn given_the_built_in_policy_then_personal_data_is_kept_until_erased_on_request() {
    assert_eq!(
        Policies::builtin()
            .privacy
            .erase_customers_years_after_closing,
        None
    );
}

#[test]
fn given_a_retention_in_years_then_customers_are_erased_that_long_after_closing() {
    let text = edited(
        "erase_customers_years_after_closing = 0",
        "erase_customers_years_after_closing = 3",
    );
    let p = parse(&text).expect("parses");
    assert_eq!(p.privacy.erase_customers_years_after_closing, Some(3));
}

#[test]
fn given_a_negative_retention_then_the_file_is_refused_naming_the_field_and_line() {
    let text = edited(
        "erase_customers_years_after_closing = 0",
        "erase_customers_years_after_closing = -1",
    );
    let problems = refused(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].field,
        "privacy.erase_customers_years_after_closing"
    );
    assert_eq!(
        problems[0].line,
        line_containing(&text, "erase_customers_years_after_closing")
    );
}

#[test]
fn given_the_built_in_policy_then_the_access_table_is_the_built_in_one() {
    let p = Policies::builtin();
    assert!(p.access.rpc.is_empty());
    assert_eq!(p.access.import_roles, None);
}

#[test]
fn given_an_access_section_then_each_rpc_keeps_the_roles_the_company_names() {
    let text = format!(
        "{BUILTIN}\n[access]\nimport_roles = [\"customer_service\", \"technician\"]\n\n[access.rpc]\n\"SlaDashboard.GetKpis\" = [\"general_manager\"]\n"
    );
    let p = parse(&text).expect("parses");
    assert_eq!(
        p.access.rpc.get("SlaDashboard.GetKpis"),
        Some(&vec![crate::Role::GeneralManager])
    );
    assert_eq!(
        p.access.import_roles,
        Some(vec![crate::Role::CustomerService, crate::Role::Technician])
    );
}

#[test]
fn given_an_unknown_role_or_a_malformed_rpc_name_in_access_then_the_file_is_refused_naming_them() {
    let text = format!(
        "{BUILTIN}\n[access.rpc]\n\"GetKpis\" = [\"general_manager\"]\n\"SlaDashboard.ListOpenClocks\" = [\"janitor\"]\n"
    );
    let problems = refused(&text);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].field, "access.rpc.\"GetKpis\"");
    assert!(problems[0].message.contains("Service.Method"));
    assert_eq!(
        problems[1].field,
        "access.rpc.\"SlaDashboard.ListOpenClocks\""
    );
    assert_eq!(problems[1].line, line_containing(&text, "janitor"));
}
