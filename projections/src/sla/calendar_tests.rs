use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;

/// A Shanghai wall-clock time as a UTC instant.
fn sh(date: &str, time: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")
        .expect("valid");
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&local)
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

fn cn() -> Calendar {
    Calendar::from_toml(CN_2026).expect("shipped calendar")
}

const H: i64 = 3_600;

#[test]
fn the_shipped_calendar_has_every_official_2026_date() {
    let c = cn();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    for holiday in [
        "2026-01-01",
        "2026-01-03",
        "2026-02-16",
        "2026-02-23",
        "2026-04-06",
        "2026-05-05",
        "2026-06-19",
        "2026-09-25",
        "2026-10-07",
    ] {
        assert!(!c.is_working_day(d(holiday)), "{holiday} is a holiday");
    }
    for make_up in [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ] {
        assert!(
            Calendar::is_weekend(d(make_up)),
            "{make_up} falls on a weekend"
        );
        assert!(c.is_working_day(d(make_up)), "{make_up} is worked");
    }
    assert!(
        !c.is_working_day(d("2026-01-10")),
        "an ordinary Saturday is off"
    );
    assert!(
        c.is_working_day(d("2026-01-05")),
        "an ordinary Monday is worked"
    );
}

#[test]
fn the_lunch_break_does_not_count() {
    assert_eq!(
        cn().business_seconds(sh("2026-01-06", "10:00"), sh("2026-01-06", "14:00")),
        3 * H
    );
}

#[test]
fn overnight_counts_only_the_working_hours_on_each_side() {
    assert_eq!(
        cn().business_seconds(sh("2026-01-06", "17:00"), sh("2026-01-07", "10:00")),
        2 * H
    );
}

#[test]
fn a_weekend_adds_nothing() {
    assert_eq!(
        cn().business_seconds(sh("2026-01-09", "17:00"), sh("2026-01-12", "10:00")),
        2 * H
    );
}

#[test]
fn new_year_holidays_are_skipped_and_the_make_up_sunday_counts() {
    // Wed 31 Dec 17-18 (1 h), 1-3 Jan off, Sun 4 Jan worked (8 h), Mon 5 Jan 9-10 (1 h).
    assert_eq!(
        cn().business_seconds(sh("2025-12-31", "17:00"), sh("2026-01-05", "10:00")),
        10 * H
    );
}

#[test]
fn the_spring_festival_make_up_saturday_is_the_only_working_day_before_it() {
    assert_eq!(
        cn().business_seconds(sh("2026-02-13", "18:00"), sh("2026-02-24", "09:00")),
        8 * H
    );
}

#[test]
fn time_before_after_or_reversed_is_zero() {
    let c = cn();
    assert_eq!(
        c.business_seconds(sh("2026-01-06", "18:30"), sh("2026-01-06", "23:00")),
        0
    );
    assert_eq!(
        c.business_seconds(sh("2026-01-07", "10:00"), sh("2026-01-06", "10:00")),
        0
    );
}

#[test]
fn six_working_hours_from_friday_afternoon_end_on_monday_noon() {
    assert_eq!(
        cn().add_business_seconds(sh("2026-01-09", "15:00"), 6 * H),
        Ok(sh("2026-01-12", "12:00"))
    );
}

#[test]
fn a_deadline_lands_on_a_make_up_saturday_after_lunch() {
    assert_eq!(
        cn().add_business_seconds(sh("2026-02-28", "11:00"), 2 * H),
        Ok(sh("2026-02-28", "14:00"))
    );
}

#[test]
fn a_clock_started_during_lunch_runs_from_one_oclock() {
    assert_eq!(
        cn().add_business_seconds(sh("2026-01-06", "12:30"), 30 * 60),
        Ok(sh("2026-01-06", "13:30"))
    );
}

#[test]
fn seven_working_days_across_mid_autumn_and_national_day() {
    // Thu 24 Sep 10-18 (7 h); 25-27 off; 28-30 Sep (24 h); 1-7 Oct off;
    // 8, 9 and Sat 10 Oct worked (24 h); Sun 11 off; Mon 12 Oct 9-10 (1 h).
    let c = cn();
    let start = sh("2026-09-24", "10:00");
    let due = c.add_business_seconds(start, 7 * 8 * H);
    assert_eq!(due, Ok(sh("2026-10-12", "10:00")));
    assert_eq!(c.business_seconds(start, sh("2026-10-12", "10:00")), 56 * H);
}

#[test]
fn adding_and_measuring_agree() {
    let c = cn();
    let start = sh("2026-04-03", "16:20");
    for minutes in [1_i64, 59, 100, 481, 2_000, 9_999] {
        let due = c.add_business_seconds(start, minutes * 60).expect("due");
        assert_eq!(
            c.business_seconds(start, due),
            minutes * 60,
            "{minutes} min"
        );
    }
}

#[test]
fn a_site_may_set_its_own_hours_and_zone() {
    let c = Calendar::from_toml(
        r#"
        name = "urumqi"
        time_zone = "Asia/Urumqi"
        [hours]
        workday = ["10:00-14:00", "15:30-19:30"]
        saturday = ["10:00-12:00"]
        "#,
    )
    .expect("parses");
    // Urumqi is UTC+6: 10:00 local is 04:00 UTC.
    let sat_ten = Utc
        .with_ymd_and_hms(2026, 1, 10, 4, 0, 0)
        .single()
        .expect("t");
    assert_eq!(
        c.business_seconds(sat_ten, sat_ten + chrono::Duration::hours(5)),
        2 * H
    );
}

#[test]
fn a_date_that_is_both_holiday_and_make_up_is_refused() {
    let e = Calendar::from_toml(
        r#"name = "x"
        holidays = ["2026-01-04"]
        make_up_workdays = ["2026-01-04"]"#,
    );
    assert_eq!(
        e,
        Err(CalendarError::Both(
            NaiveDate::from_ymd_opt(2026, 1, 4).expect("d")
        ))
    );
}

#[test]
fn overlapping_or_reversed_periods_are_refused() {
    for hours in [
        r#"["09:00-12:00", "11:00-13:00"]"#,
        r#"["12:00-09:00"]"#,
        r#"["9-12"]"#,
    ] {
        let e = Calendar::from_toml(&format!("name = \"x\"\n[hours]\nworkday = {hours}"));
        assert!(
            matches!(e, Err(CalendarError::Period { .. })),
            "{hours}: {e:?}"
        );
    }
    assert!(matches!(
        Calendar::from_toml("name = \"x\"\ntime_zone = \"Mars/Base\""),
        Err(CalendarError::TimeZone(_))
    ));
}

#[test]
fn two_years_of_the_same_calendar_merge() {
    let next = Calendar::from_toml("name = \"cn\"\nholidays = [\"2027-01-01\"]").expect("parses");
    let both = cn().merge(next).expect("merges");
    assert!(!both.is_working_day(NaiveDate::from_ymd_opt(2027, 1, 1).expect("d")));
    assert!(!both.is_working_day(NaiveDate::from_ymd_opt(2026, 1, 1).expect("d")));
}

#[test]
fn a_calendar_without_working_time_reports_it() {
    let never = Calendar::from_toml("name = \"x\"\n[hours]\nworkday = []").expect("parses");
    assert_eq!(
        never.add_business_seconds(sh("2026-01-06", "10:00"), 60),
        Err(CalendarError::NoWorkingTime)
    );
}

/// Before, only 2026 shipped: a period or clock in 2025 counted Spring
/// Festival 2025 as working days and its make-up Sunday as a rest day.
#[test]
fn the_shipped_default_knows_2025_as_well() {
    let c = Calendars::default().default;
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    for holiday in [
        "2025-01-01",
        "2025-01-28",
        "2025-02-04",
        "2025-05-05",
        "2025-10-08",
    ] {
        assert!(!c.is_working_day(d(holiday)), "{holiday} is a holiday");
    }
    for make_up in [
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
    ] {
        assert!(c.is_working_day(d(make_up)), "{make_up} is worked");
    }
    assert!(!c.is_working_day(d("2026-10-01")), "2026 is still there");
    let rest = c.rest_days();
    assert!(rest.is_rest_day(d("2025-01-29")));
    assert!(!rest.is_rest_day(d("2025-02-08")));
}
