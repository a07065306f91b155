//! Business calendars: working hours per weekday (a lunch break is simply
//! the gap between two periods), weekends, public holidays and make-up
//! working days (调休), in a time zone. Loaded from an editable TOML file
//! per year (`config/calendars/cn-2026.toml`); files of several years merge.
//!
//! All arithmetic is in whole seconds between UTC instants; the calendar
//! turns each local date into its working periods.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

/// How far arithmetic searches for working time before giving up (a
/// calendar with no working days at all).
const HORIZON_DAYS: u64 = 3_660;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar file is not valid TOML: {0}")]
    Toml(String),
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    #[error("{field}: {value:?} is not a period HH:MM-HH:MM with start before end")]
    Period { field: String, value: String },
    #[error("{field}: {value:?} is not a date YYYY-MM-DD or range YYYY-MM-DD..YYYY-MM-DD")]
    Date { field: String, value: String },
    #[error("{0} is both a holiday and a make-up working day")]
    Both(NaiveDate),
    #[error("calendars {0:?} and {1:?} differ in time zone or working hours and cannot merge")]
    Incompatible(String, String),
    #[error("no working time within {HORIZON_DAYS} days")]
    NoWorkingTime,
}

/// The file's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    name: String,
    #[serde(default = "default_zone")]
    time_zone: String,
    #[serde(default)]
    hours: HoursFile,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    make_up_workdays: Vec<String>,
}

fn default_zone() -> String {
    "Asia/Shanghai".to_owned()
}

/// Working periods: `workday` applies Monday to Friday and on make-up
/// working days unless a weekday has its own entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFile {
    #[serde(default = "default_workday")]
    workday: Vec<String>,
    monday: Option<Vec<String>>,
    tuesday: Option<Vec<String>>,
    wednesday: Option<Vec<String>>,
    thursday: Option<Vec<String>>,
    friday: Option<Vec<String>>,
    #[serde(default)]
    saturday: Vec<String>,
    #[serde(default)]
    sunday: Vec<String>,
}

impl Default for HoursFile {
    fn default() -> Self {
        Self {
            workday: default_workday(),
            monday: None,
            tuesday: None,
            wednesday: None,
            thursday: None,
            friday: None,
            saturday: Vec::new(),
            sunday: Vec::new(),
        }
    }
}

fn default_workday() -> Vec<String> {
    vec!["09:00-12:00".into(), "13:00-18:00".into()]
}

type Periods = Vec<(NaiveTime, NaiveTime)>;

/// A business calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub name: String,
    pub zone: Tz,
    /// Monday first.
    week: [Periods; 7],
    /// Hours of a make-up working day.
    workday: Periods,
    holidays: BTreeSet<NaiveDate>,
    make_up: BTreeSet<NaiveDate>,
}

fn periods(field: &str, raw: &[String]) -> Result<Periods, CalendarError> {
    let mut out: Periods = Vec::new();
    for value in raw {
        let bad = || CalendarError::Period {
            field: field.to_owned(),
            value: value.clone(),
        };
        let (a, b) = value.split_once('-').ok_or_else(bad)?;
        let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
        let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
        if a >= b || out.last().is_some_and(|(_, end)| *end > a) {
            return Err(bad());
        }
        out.push((a, b));
    }
    Ok(out)
}

fn dates(field: &str, raw: &[String]) -> Result<BTreeSet<NaiveDate>, CalendarError> {
    let mut out = BTreeSet::new();
    for value in raw {
        let bad = || CalendarError::Date {
            field: field.to_owned(),
            value: value.clone(),
        };
        let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| bad());
        let (first, last) = match value.split_once("..") {
            Some((a, b)) => (day(a)?, day(b)?),
            None => (day(value)?, day(value)?),
        };
        if last < first {
            return Err(bad());
        }
        out.extend(first.iter_days().take_while(|d| *d <= last));
    }
    Ok(out)
}

impl Calendar {
    /// Parses a calendar file.
    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        let file: CalendarFile =
            toml::from_str(text).map_err(|e| CalendarError::Toml(e.to_string()))?;
        let zone: Tz = file
            .time_zone
            .parse()
            .map_err(|_| CalendarError::TimeZone(file.time_zone.clone()))?;
        let h = &file.hours;
        let workday = periods("hours.workday", &h.workday)?;
        let day = |name: &str, own: &Option<Vec<String>>| match own {
            Some(own) => periods(&format!("hours.{name}"), own),
            None => Ok(workday.clone()),
        };
        let week = [
            day("monday", &h.monday)?,
            day("tuesday", &h.tuesday)?,
            day("wednesday", &h.wednesday)?,
            day("thursday", &h.thursday)?,
            day("friday", &h.friday)?,
            periods("hours.saturday", &h.saturday)?,
            periods("hours.sunday", &h.sunday)?,
        ];
        let holidays = dates("holidays", &file.holidays)?;
        let make_up = dates("make_up_workdays", &file.make_up_workdays)?;
        if let Some(d) = holidays.intersection(&make_up).next() {
            return Err(CalendarError::Both(*d));
        }
        Ok(Self {
            name: file.name,
            zone,
            week,
            workday,
            holidays,
            make_up,
        })
    }

    /// Adds another year's file of the same calendar.
    pub fn merge(mut self, other: Calendar) -> Result<Self, CalendarError> {
        if self.zone != other.zone || self.week != other.week || self.workday != other.workday {
            return Err(CalendarError::Incompatible(self.name, other.name));
        }
        self.holidays.extend(other.holidays);
        self.make_up.extend(other.make_up);
        if let Some(d) = self.holidays.intersection(&self.make_up).next() {
            return Err(CalendarError::Both(*d));
        }
        Ok(self)
    }

    /// The working periods of a local date.
    pub fn periods_on(&self, date: NaiveDate) -> &[(NaiveTime, NaiveTime)] {
        if self.holidays.contains(&date) {
            &[]
        } else if self.make_up.contains(&date) {
            &self.workday
        } else {
            &self.week[date.weekday().num_days_from_monday() as usize]
        }
    }

    /// The dates nobody works by law at the site (Saturdays and Sundays
    /// unless worked as 调休, and holidays): where periods that end on a
    /// date stop (`domain::period`). A site's own opening hours do not
    /// change them.
    pub fn rest_days(&self) -> domain::period::RestDays {
        domain::period::RestDays::new(self.holidays.clone(), self.make_up.clone())
    }

    /// Whether `date` has any working time.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.periods_on(date).is_empty()
    }

    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        // A period boundary inside a DST gap or fold: take the earliest
        // instant, or the naive time read as UTC offset-free when none exists.
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }

    /// The end of a local date (midnight after it), as a UTC instant.
    pub fn end_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        let next = date.succ_opt().unwrap_or(date);
        self.instant(next, NaiveTime::MIN)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.zone).date_naive()
    }

    /// The working periods of a local date as UTC instants.
    fn day(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        self.periods_on(date)
            .iter()
            .map(move |(a, b)| (self.instant(date, *a), self.instant(date, *b)))
    }

    /// Working seconds in `[from, to)`; zero when `to <= from`.
    pub fn business_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let last = self.local_date(to);
        let mut total = 0;
        let mut date = self.local_date(from);
        while date <= last {
            for (a, b) in self.day(date) {
                let (a, b) = (a.max(from), b.min(to));
                if b > a {
                    total += (b - a).num_seconds();
                }
            }
            match date.checked_add_days(Days::new(1)) {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// The instant at which `seconds` of working time after `from` have
    /// passed. Zero seconds from outside working hours is `from` itself.
    pub fn add_business_seconds(
        &self,
        from: DateTime<Utc>,
        seconds: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if seconds <= 0 {
            return Ok(from);
        }
        let mut left = seconds;
        let mut date = self.local_date(from);
        for _ in 0..HORIZON_DAYS {
            for (a, b) in self.day(date) {
                let a = a.max(from);
                if b <= a {
                    continue;
                }
                let available = (b - a).num_seconds();
                if left <= available {
                    return Ok(a + chrono::Duration::seconds(left));
                }
                left -= available;
            }
            date = date
                .checked_add_days(Days::new(1))
                .ok_or(CalendarError::NoWorkingTime)?;
        }
        Err(CalendarError::NoWorkingTime)
    }

    /// The ISO week ("2026-W05") of an instant's local date.
    pub fn week_of(&self, t: DateTime<Utc>) -> String {
        let w = self.local_date(t).iso_week();
        format!("{:04}-W{:02}", w.year(), w.week())
    }

    /// Whether the date is a Saturday or Sunday (before holidays/调休).
    pub fn is_weekend(date: NaiveDate) -> bool {
        matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }
}

/// The shipped China 2026 calendar.
pub const CN_2026: &str = include_str!("../../../config/calendars/cn-2026.toml");

/// The shipped China 2025 calendar, merged with 2026's by default.
pub const CN_2025: &str = include_str!("../../../config/calendars/cn-2025.toml");

/// Calendars by name, and which one each region uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendars {
    pub default: Calendar,
    pub by_region: BTreeMap<String, Calendar>,
}

impl Calendars {
    pub fn single(calendar: Calendar) -> Self {
        Self {
            default: calendar,
            by_region: BTreeMap::new(),
        }
    }

    /// The calendar of a region (site), or the default.
    pub fn for_region(&self, region: &str) -> &Calendar {
        self.by_region.get(region).unwrap_or(&self.default)
    }
}

impl Default for Calendars {
    fn default() -> Self {
        #[allow(clippy::expect_used)]
        let cn = Calendar::from_toml(CN_2025)
            .and_then(|y2025| y2025.merge(Calendar::from_toml(CN_2026)?))
            .expect("the shipped calendars parse and merge");
        Self::single(cn)
    }
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
