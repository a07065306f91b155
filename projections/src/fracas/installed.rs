//! The installed base (pure): units sold or shipped, parsed once from what a
//! caller or a CSV line says, and the population the MTBF, failure-rate and
//! Weibull figures are computed over (docs/FRACAS.md, "Installed base").
//!
//! A unit is serialised (one unit, its serial) or an unserialised lot (a
//! quantity of one model and batch with one date). Its sale or ship date
//! starts its operating time; a unit without one is still registered, but
//! no figure can age it (see [`Population`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::records::Unit;

/// Longest model, batch or serial.
const MAX_LABEL: usize = 64;
/// Largest lot.
const MAX_QUANTITY: u64 = 10_000_000;

/// Why a unit was refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("{field}: must not be empty")]
    Empty { field: &'static str },
    #[error("{field}: must be at most 64 characters without control characters")]
    BadLabel { field: &'static str },
    #[error("quantity: must be a whole number from 1 to 10000000, got {0:?}")]
    BadQuantity(String),
    #[error("quantity: a serialised unit is one unit (leave it empty or 1)")]
    SerialWithQuantity,
    #[error("quantity: required (1 or more) for a unit without a serial")]
    NoSerialNoQuantity,
    #[error("date: must be YYYY-MM-DD, got {0:?}")]
    BadDate(String),
    #[error("date: {0} is after today ({1})")]
    FutureDate(NaiveDate, NaiveDate),
    #[error("date_kind: must be sold or shipped, got {0:?}")]
    BadDateKind(String),
    #[error("serial: {serial} is registered twice (first at {first})")]
    Duplicate { serial: String, first: String },
}

impl UnitError {
    /// The field refused.
    pub fn field(&self) -> &'static str {
        match self {
            UnitError::Empty { field } | UnitError::BadLabel { field } => field,
            UnitError::BadQuantity(_)
            | UnitError::SerialWithQuantity
            | UnitError::NoSerialNoQuantity => "quantity",
            UnitError::BadDate(_) | UnitError::FutureDate(..) => "date",
            UnitError::BadDateKind(_) => "date_kind",
            UnitError::Duplicate { .. } => "serial",
        }
    }

    /// What is wrong with it, without the field's name.
    pub fn problem(&self) -> String {
        let all = self.to_string();
        all.strip_prefix(&format!("{}: ", self.field()))
            .map(str::to_owned)
            .unwrap_or(all)
    }
}

/// Which date a unit's operating time starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    Sold,
    Shipped,
}

impl DateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DateKind::Sold => "sold",
            DateKind::Shipped => "shipped",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnitError> {
        match raw.trim() {
            "" | "sold" => Ok(DateKind::Sold),
            "shipped" => Ok(DateKind::Shipped),
            other => Err(UnitError::BadDateKind(other.to_owned())),
        }
    }
}

/// A unit (or lot) of the installed base, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledUnit {
    pub product_model: String,
    /// "" when no batch is recorded.
    pub batch: String,
    pub serial: Option<String>,
    /// 1 for a serialised unit.
    pub quantity: u64,
    pub in_service_on: Option<NaiveDate>,
    pub date_kind: DateKind,
}

/// A unit as given, every field text (gRPC message or CSV line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawUnit {
    pub product_model: String,
    pub batch: String,
    pub serial: String,
    pub quantity: String,
    pub date: String,
    pub date_kind: String,
}

fn label(field: &'static str, raw: &str, required: bool) -> Result<String, UnitError> {
    let s = raw.trim();
    if s.is_empty() && required {
        return Err(UnitError::Empty { field });
    }
    if s.chars().count() > MAX_LABEL || s.chars().any(char::is_control) {
        return Err(UnitError::BadLabel { field });
    }
    Ok(s.to_owned())
}

impl InstalledUnit {
    /// Parses a unit; `today` bounds the date.
    pub fn parse(raw: &RawUnit, today: NaiveDate) -> Result<Self, UnitError> {
        let product_model = label("product_model", &raw.product_model, true)?;
        let batch = label("batch", &raw.batch, false)?;
        let serial = Some(label("serial", &raw.serial, false)?).filter(|s| !s.is_empty());
        let quantity = match raw.quantity.trim() {
            "" => None,
            q => Some(
                q.parse::<u64>()
                    .ok()
                    .filter(|n| (1..=MAX_QUANTITY).contains(n))
                    .ok_or_else(|| UnitError::BadQuantity(q.to_owned()))?,
            ),
        };
        let quantity = match (&serial, quantity) {
            (Some(_), None | Some(1)) => 1,
            (Some(_), Some(_)) => return Err(UnitError::SerialWithQuantity),
            (None, Some(n)) => n,
            (None, None) => return Err(UnitError::NoSerialNoQuantity),
        };
        let in_service_on = match raw.date.trim() {
            "" => None,
            d => Some(
                d.parse::<NaiveDate>()
                    .map_err(|_| UnitError::BadDate(d.to_owned()))?,
            ),
        };
        if let Some(d) = in_service_on.filter(|d| *d > today) {
            return Err(UnitError::FutureDate(d, today));
        }
        Ok(Self {
            product_model,
            batch,
            serial,
            quantity,
            in_service_on,
            date_kind: DateKind::parse(&raw.date_kind)?,
        })
    }

    /// The row key: registering the same key again replaces the row.
    pub fn key(&self) -> String {
        match &self.serial {
            Some(s) => format!("S:{s}"),
            None => format!(
                "L:{}|{}|{}|{}",
                self.product_model,
                self.batch,
                self.in_service_on
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                self.date_kind.as_str()
            ),
        }
    }
}

/// Parses a batch of units, all or nothing: every refusal, each with the
/// label of where it was (`units[3]`, `line 4`), or the units. A key given
/// twice is refused at its second place.
pub fn parse_all(
    raw: &[(String, RawUnit)],
    today: NaiveDate,
) -> Result<Vec<InstalledUnit>, Vec<(String, UnitError)>> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut units = Vec::with_capacity(raw.len());
    let mut errors = Vec::new();
    for (at, r) in raw {
        match InstalledUnit::parse(r, today) {
            Ok(u) => {
                if let Some(first) = seen.get(&u.key()) {
                    let serial = u.serial.clone().unwrap_or_else(|| u.key());
                    errors.push((
                        at.clone(),
                        UnitError::Duplicate {
                            serial,
                            first: first.clone(),
                        },
                    ));
                } else {
                    seen.insert(u.key(), at.clone());
                    units.push(u);
                }
            }
            Err(e) => errors.push((at.clone(), e)),
        }
    }
    if errors.is_empty() {
        Ok(units)
    } else {
        Err(errors)
    }
}

/// Header of the import file (docs/FRACAS.md); columns in any order,
/// `product_model` required, the others optional.
pub const CSV_COLUMNS: [&str; 6] = [
    "product_model",
    "batch",
    "serial",
    "quantity",
    "date",
    "date_kind",
];

/// Why an import file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("line 1: the header must name product_model and only these columns: {0}")]
    Header(String),
    #[error("line {line}: {message}")]
    Unreadable { line: u64, message: String },
    #[error("the file has no unit")]
    NoUnit,
}

/// Reads an import file into raw units labelled `line N` (1 is the header).
pub fn read_csv(text: &str) -> Result<Vec<(String, RawUnit)>, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CsvError::Header(e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let known: BTreeSet<&str> = CSV_COLUMNS.into_iter().collect();
    if !header.iter().any(|h| h == "product_model")
        || header.iter().any(|h| !known.contains(h.as_str()))
    {
        return Err(CsvError::Header(CSV_COLUMNS.join(",")));
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| CsvError::Unreadable {
            line: e.position().map_or(0, csv::Position::line),
            message: e.to_string(),
        })?;
        // The physical line: the position is where the reader started,
        // blank lines before the record included.
        let line = record.position().map_or(0, |p| {
            let bytes = text.as_bytes();
            let from = usize::try_from(p.byte()).unwrap_or(0).min(bytes.len());
            let blank = bytes[from..]
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count();
            bytes[..from + blank]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        });
        let cell = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_owned()
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        out.push((
            format!("line {line}"),
            RawUnit {
                product_model: cell("product_model"),
                batch: cell("batch"),
                serial: cell("serial"),
                quantity: cell("quantity"),
                date: cell("date"),
                date_kind: cell("date_kind"),
            },
        ));
    }
    if out.is_empty() {
        return Err(CsvError::NoUnit);
    }
    Ok(out)
}

/// One member of the population: a unit, or a lot of `quantity` units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub product_model: String,
    /// "" when no batch is recorded.
    pub batch: String,
    pub quantity: u64,
    pub in_service_on: Option<NaiveDate>,
    /// Known only from tickets (not in the installed base).
    pub from_tickets: bool,
    /// Its date is the earliest its tickets give (a unit known only from
    /// tickets, or a serialised unit registered without a date).
    pub dated_by_tickets: bool,
}

/// The population of the reliability figures: the installed base, plus
/// every serial known only from tickets. `by_serial` says which member a
/// ticket's serial (so its failures) belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Population {
    pub members: Vec<Member>,
    pub by_serial: BTreeMap<String, usize>,
}

impl Population {
    /// Merges the installed base with the units seen in tickets:
    /// - a registered serial is that unit (its model and batch are the
    ///   installed base's; a unit registered without a date takes the
    ///   earliest in-service date its tickets give);
    /// - a ticket serial not registered, of a model and batch that has an
    ///   unserialised lot, is one of that lot (not a unit more; the earliest
    ///   such lot);
    /// - any other ticket serial is a unit of its own, with the model and
    ///   batch of its first ticket and the earliest date its tickets give.
    pub fn new(installed: &[InstalledUnit], tickets: &[Unit]) -> Self {
        let mut pop = Population::default();
        let mut lots: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for u in installed {
            let i = pop.members.len();
            pop.members.push(Member {
                product_model: u.product_model.clone(),
                batch: u.batch.clone(),
                quantity: u.quantity,
                in_service_on: u.in_service_on,
                from_tickets: false,
                dated_by_tickets: u.serial.is_some() && u.in_service_on.is_none(),
            });
            match &u.serial {
                Some(s) => {
                    pop.by_serial.insert(s.clone(), i);
                }
                None => {
                    let lot = lots.entry((&u.product_model, &u.batch)).or_insert(i);
                    if pop.members[*lot].in_service_on > u.in_service_on {
                        *lot = i;
                    }
                }
            }
        }
        let mut sorted: Vec<&Unit> = tickets.iter().collect();
        sorted.sort_by(|a, b| (a.received_on, &a.ticket_id).cmp(&(b.received_on, &b.ticket_id)));
        for t in sorted {
            let batch = t.batch.clone().unwrap_or_default();
            let i = match pop.by_serial.get(&t.serial) {
                Some(i) => *i,
                None => {
                    let i = match lots.get(&(t.product_model.as_str(), batch.as_str())) {
                        Some(lot) => *lot,
                        None => {
                            pop.members.push(Member {
                                product_model: t.product_model.clone(),
                                batch,
                                quantity: 1,
                                in_service_on: None,
                                from_tickets: true,
                                dated_by_tickets: true,
                            });
                            pop.members.len() - 1
                        }
                    };
                    pop.by_serial.insert(t.serial.clone(), i);
                    i
                }
            };
            let m = &mut pop.members[i];
            if m.dated_by_tickets {
                m.in_service_on = match (m.in_service_on, t.in_service_on) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        pop
    }

    /// The member a serial belongs to.
    pub fn of(&self, serial: &str) -> Option<&Member> {
        self.by_serial.get(serial).map(|i| &self.members[*i])
    }
}
