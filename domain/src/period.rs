//! Periods as the Civil Code counts them (民法典 第二百零一至二百零四条;
//! DOMAIN.md §4), one place for every window that ends on a date: the
//! warranty, the 三包 return and exchange windows, the repair guarantee.
//!
//! * Art. 201: the day the period starts from is not counted; it runs from
//!   the next day.
//! * Art. 202: a period in months or years ends on the corresponding day of
//!   the last month, or that month's last day when it has none.
//! * Art. 203: a last day that is a rest day or statutory holiday moves to
//!   the next working day (make-up working days, 调休, are working days).
//! * Art. 204: the parties may agree otherwise; a company whose warranty
//!   terms count the start day as day one says so in its policy
//!   ([`Counting::StartDayCounted`]), which then applies to its own terms
//!   (warranty, repair guarantee), never to the statutory 三包 windows.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Days(u32),
    Months(u32),
}

/// How a company's own periods are counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counting {
    /// Art. 201–203: start day not counted, a last day on a rest day moves
    /// to the next working day.
    #[default]
    CivilCode,
    /// The start day is day one, and the last day never moves (art. 204:
    /// the company's terms say so).
    StartDayCounted,
}

/// The site's rest days: Saturdays and Sundays unless worked (调休), and
/// statutory holidays, as the site's business calendar lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestDays {
    holidays: BTreeSet<NaiveDate>,
    make_up_workdays: BTreeSet<NaiveDate>,
}

/// A calendar of weekends only, no holidays: what tests and a site
/// without a calendar use.
pub static WEEKENDS_ONLY: RestDays = RestDays::weekends_only();

impl RestDays {
    pub const fn weekends_only() -> Self {
        Self {
            holidays: BTreeSet::new(),
            make_up_workdays: BTreeSet::new(),
        }
    }

    pub fn new(holidays: BTreeSet<NaiveDate>, make_up_workdays: BTreeSet<NaiveDate>) -> Self {
        Self {
            holidays,
            make_up_workdays,
        }
    }

    /// Whether nobody works on `date` at the site.
    pub fn is_rest_day(&self, date: NaiveDate) -> bool {
        if self.holidays.contains(&date) {
            return true;
        }
        if self.make_up_workdays.contains(&date) {
            return false;
        }
        matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// `date`, or the first working day after it.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        // A calendar never rests for ever: a year of holidays at most.
        for _ in 0..366 {
            if !self.is_rest_day(day) {
                return day;
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => return day,
            }
        }
        day
    }
}

/// The last day of a period of `length` starting from `start`, counted as
/// `counting` says. Dates beyond chrono's range saturate at its maximum.
pub fn last_day(
    start: NaiveDate,
    length: Length,
    counting: Counting,
    rest: &RestDays,
) -> NaiveDate {
    let corresponding = match length {
        Length::Days(n) => start.checked_add_days(Days::new(u64::from(n))),
        Length::Months(n) => start.checked_add_months(Months::new(n)),
    }
    .unwrap_or(NaiveDate::MAX);
    match counting {
        Counting::CivilCode => rest.next_working_day(corresponding),
        Counting::StartDayCounted => corresponding.pred_opt().unwrap_or(corresponding),
    }
}

/// Whether `day` falls within the period (on or before its last day).
pub fn within(
    day: NaiveDate,
    start: NaiveDate,
    length: Length,
    counting: Counting,
    rest: &RestDays,
) -> bool {
    day <= last_day(start, length, counting, rest)
}

#[cfg(test)]
#[path = "period_tests.rs"]
mod tests;
