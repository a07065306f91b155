//! DOMAIN.md §4's two worked examples, the month-end and leap-day cases of
//! art. 202, and properties over any start, length and holiday set.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn range(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// China 2026 (State Council notice of 2025-11-04), as DOMAIN.md §7 lists it.
fn china_2026() -> RestDays {
    let spans = [
        ((1, 1), (1, 3)),
        ((2, 15), (2, 23)),
        ((4, 4), (4, 6)),
        ((5, 1), (5, 5)),
        ((6, 19), (6, 21)),
        ((9, 25), (9, 27)),
        ((10, 1), (10, 7)),
    ];
    let holidays = spans
        .iter()
        .flat_map(|&((m1, d1), (m2, d2))| range(day(2026, m1, d1), day(2026, m2, d2)))
        .collect();
    let make_up = [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)]
        .iter()
        .map(|&(m, d)| day(2026, m, d))
        .collect();
    RestDays::new(holidays, make_up)
}

#[test]
fn a_twelve_month_warranty_ending_on_a_sunday_covers_the_monday_after() {
    // From 2025-03-01: the corresponding day 2026-03-01 is a Sunday.
    let last = last_day(
        day(2025, 3, 1),
        Length::Months(12),
        Counting::CivilCode,
        &china_2026(),
    );
    assert_eq!(last, day(2026, 3, 2));
}

#[test]
fn a_seven_day_window_ending_in_national_day_covers_the_first_working_day_after() {
    // Sale 2026-09-28: day 7 is 10-05, inside the Oct 1-7 holiday.
    let last = last_day(
        day(2026, 9, 28),
        Length::Days(7),
        Counting::CivilCode,
        &china_2026(),
    );
    assert_eq!(last, day(2026, 10, 8));
}

#[test]
fn the_start_day_is_not_counted() {
    // Sale on Tuesday 2026-03-03: day 7 is Tuesday 03-10.
    let rest = china_2026();
    let start = day(2026, 3, 3);
    assert!(within(
        day(2026, 3, 10),
        start,
        Length::Days(7),
        Counting::CivilCode,
        &rest
    ));
    assert!(!within(
        day(2026, 3, 11),
        start,
        Length::Days(7),
        Counting::CivilCode,
        &rest
    ));
}

#[test]
fn a_make_up_working_day_is_a_working_last_day() {
    // 2026-02-28 is a Saturday worked (调休): a period ending on it stays.
    let last = last_day(
        day(2026, 2, 21),
        Length::Days(7),
        Counting::CivilCode,
        &china_2026(),
    );
    assert_eq!(last, day(2026, 2, 28));
}

#[test]
fn a_month_without_the_corresponding_day_ends_on_its_last_day() {
    // One month from 31 January ends on 28 February (a make-up Saturday
    // in 2026, so it stays).
    let rest = china_2026();
    assert_eq!(
        last_day(
            day(2026, 1, 31),
            Length::Months(1),
            Counting::CivilCode,
            &rest
        ),
        day(2026, 2, 28)
    );
    // From a leap day, a year ends on 28 February of the next year.
    let none = RestDays::default();
    assert_eq!(
        last_day(
            day(2028, 2, 29),
            Length::Months(12),
            Counting::CivilCode,
            &none
        ),
        day(2029, 2, 28)
    );
}

#[test]
fn counting_the_start_day_ends_the_day_before_the_corresponding_day_and_never_moves() {
    let last = last_day(
        day(2025, 3, 1),
        Length::Months(12),
        Counting::StartDayCounted,
        &china_2026(),
    );
    assert_eq!(last, day(2026, 2, 28));
    let week = last_day(
        day(2026, 9, 28),
        Length::Days(7),
        Counting::StartDayCounted,
        &china_2026(),
    );
    assert_eq!(week, day(2026, 10, 4));
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (2000i32..2100, 1u32..=366)
        .prop_map(|(y, ord)| NaiveDate::from_yo_opt(y, ord).unwrap_or_else(|| day(y, 12, 31)))
}

fn any_length() -> impl Strategy<Value = Length> {
    prop_oneof![
        (0u32..400).prop_map(Length::Days),
        (0u32..240).prop_map(Length::Months),
    ]
}

fn any_rest_days() -> impl Strategy<Value = RestDays> {
    (
        proptest::collection::btree_set(any_date(), 0..60),
        proptest::collection::btree_set(any_date(), 0..20),
    )
        .prop_map(|(holidays, make_up): (BTreeSet<_>, BTreeSet<_>)| {
            let make_up = make_up.difference(&holidays).copied().collect();
            RestDays::new(holidays, make_up)
        })
}

proptest! {
    #[test]
    fn the_last_day_is_the_first_working_day_on_or_after_the_corresponding_day(
        start in any_date(), length in any_length(), rest in any_rest_days()
    ) {
        let last = last_day(start, length, Counting::CivilCode, &rest);
        prop_assert!(!rest.is_rest_day(last));
        let corresponding = match length {
            Length::Days(n) => start + chrono::Days::new(u64::from(n)),
            Length::Months(n) => start + chrono::Months::new(n),
        };
        prop_assert!(last >= corresponding);
        for skipped in range(corresponding, last).filter(|d| *d < last) {
            prop_assert!(rest.is_rest_day(skipped), "{skipped} is a working day before {last}");
        }
    }

    #[test]
    fn a_period_in_months_ends_on_the_same_day_of_the_month_or_that_months_last(
        start in any_date(), months in 0u32..240
    ) {
        let end = last_day(start, Length::Months(months), Counting::StartDayCounted, &RestDays::default())
            .succ_opt()
            .expect("in range");
        let month_end = NaiveDate::from_ymd_opt(end.year(), end.month(), 1)
            .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
            .and_then(|next| next.pred_opt())
            .expect("in range");
        prop_assert!(end.day() == start.day() || (end == month_end && end.day() < start.day()));
        let month_index = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
        prop_assert_eq!(month_index(end) - month_index(start), months as i32);
    }

    #[test]
    fn a_day_inside_the_period_is_within_it_and_the_day_after_its_last_is_not(
        start in any_date(), length in any_length(), rest in any_rest_days()
    ) {
        let last = last_day(start, length, Counting::CivilCode, &rest);
        prop_assert!(within(last, start, length, Counting::CivilCode, &rest));
        prop_assert!(within(start, start, length, Counting::CivilCode, &rest));
        let after = last.succ_opt().expect("in range");
        prop_assert!(!within(after, start, length, Counting::CivilCode, &rest));
    }
}
