//! Reading FRACAS back: failure history (filtered, keyset-paged) and the
//! rows the figures are computed from ([`super::tables`] turns them into
//! report tables, CSV via [`Table::to_csv`]). The same SQL runs on both stores; every column is
//! read as text and parsed here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::capa::Recurrence;

pub use super::tables::{run, Report, Request};
pub use crate::report::Table;

use super::records::{FailureRecord, Signal, Unit};
use crate::db::{parse_time, Cells, Pool, Val};

/// Which failure records to read; every filter is optional (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub product_model: Option<String>,
    pub serial: Option<String>,
    pub part_number: Option<String>,
    pub batch: Option<String>,
    pub failure_mode: Option<String>,
    /// First and last failure date included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Where a page of history starts: after this record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: String,
    pub ticket_id: String,
    pub record_no: i64,
}

impl Cursor {
    /// An opaque page token.
    pub fn token(&self) -> String {
        format!("{}|{}|{}", self.occurred_at, self.record_no, self.ticket_id)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '|');
        let occurred_at = parts.next()?.to_owned();
        let record_no = parts.next()?.parse().ok()?;
        let ticket_id = parts.next()?.to_owned();
        Some(Self {
            occurred_at,
            ticket_id,
            record_no,
        })
    }
}

const FAILURE_COLUMNS: &str = "ticket_id, CAST(record_no AS TEXT), signal, occurred_at, failed_on,
    product_model, serial, batch, failure_mode, symptom, failed_parts, root_cause,
    responsible_department, CAST(operating_days AS TEXT), CAST(no_fault_found AS TEXT),
    CAST(misuse AS TEXT), CAST(cycle AS TEXT)";

/// Appends `clause` with `v` bound as its `{}` when `v` is given.
fn push(sql: &mut String, clause: &str, v: Option<String>, vals: &mut Vec<Val>) {
    if let Some(v) = v {
        vals.push(Val::Text(v));
        sql.push_str(&clause.replace("{}", &format!("${}", vals.len())));
    }
}

/// The filter's conditions on the columns failure records and the count
/// roll-ups share: model, batch, mode and failure day.
pub(super) fn common_clause(f: &Filter, vals: &mut Vec<Val>) -> String {
    let mut sql = String::from(" WHERE 1 = 1");
    push(
        &mut sql,
        " AND product_model = {}",
        f.product_model.clone(),
        vals,
    );
    push(&mut sql, " AND batch = {}", f.batch.clone(), vals);
    push(
        &mut sql,
        " AND failure_mode = {}",
        f.failure_mode.clone(),
        vals,
    );
    push(
        &mut sql,
        " AND failed_on >= {}",
        f.from.map(|d| d.to_string()),
        vals,
    );
    push(
        &mut sql,
        " AND failed_on <= {}",
        f.to.map(|d| d.to_string()),
        vals,
    );
    sql
}

fn where_clause(f: &Filter, vals: &mut Vec<Val>) -> String {
    let mut sql = common_clause(f, vals);
    push(&mut sql, " AND serial = {}", f.serial.clone(), vals);
    push(
        &mut sql,
        " AND EXISTS (SELECT 1 FROM fracas_failure_parts p WHERE p.ticket_id = fracas_failures.ticket_id
             AND p.record_no = fracas_failures.record_no AND p.part_number = {})",
        f.part_number.clone(),
        vals,
    );
    sql
}

/// History order. The columns are qualified: unqualified, `record_no`
/// would name the text cast of the select list, and 10 would sort before 2.
const OLDEST_FIRST: &str = " ORDER BY fracas_failures.occurred_at, fracas_failures.record_no,
    fracas_failures.ticket_id";

fn text(c: &Option<String>) -> String {
    c.clone().unwrap_or_default()
}

fn decode_failure(c: &Cells) -> Result<FailureRecord, sqlx::Error> {
    let bad = |what: &str| sqlx::Error::Decode(format!("fracas_failures.{what}").into());
    let date = |i: usize, what: &str| text(&c[i]).parse::<NaiveDate>().map_err(|_| bad(what));
    let int = |i: usize| c[i].as_deref().and_then(|s| s.parse::<i64>().ok());
    Ok(FailureRecord {
        ticket_id: text(&c[0]),
        record_no: int(1)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| bad("record_no"))?,
        signal: Signal::parse(&text(&c[2])).ok_or_else(|| bad("signal"))?,
        occurred_at: parse_time(&text(&c[3])).ok_or_else(|| bad("occurred_at"))?,
        failed_on: date(4, "failed_on")?,
        product_model: text(&c[5]),
        serial: text(&c[6]),
        batch: c[7].clone(),
        failure_mode: text(&c[8]),
        symptom: text(&c[9]),
        failed_parts: text(&c[10])
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        root_cause: c[11].clone(),
        responsible_department: c[12].clone(),
        operating_days: int(13),
        no_fault_found: int(14) == Some(1),
        misuse: int(15) == Some(1),
        cycle: int(16).and_then(|n| u32::try_from(n).ok()).unwrap_or(1),
    })
}

/// Every failure record matching `filter`, oldest first.
pub async fn failures(store: &Pool, filter: &Filter) -> Result<Vec<FailureRecord>, sqlx::Error> {
    let mut vals = Vec::new();
    let clause = where_clause(filter, &mut vals) + OLDEST_FIRST;
    read_failures(store, clause, vals).await
}

async fn read_failures(
    store: &Pool,
    clause: String,
    vals: Vec<Val>,
) -> Result<Vec<FailureRecord>, sqlx::Error> {
    let sql = format!("SELECT {FAILURE_COLUMNS} FROM fracas_failures{clause}");
    store
        .texts(&sql, vals)
        .await?
        .iter()
        .map(decode_failure)
        .collect()
}

fn relevant_clause(filter: &Filter, vals: &mut Vec<Val>) -> String {
    let mut clause = where_clause(filter, vals);
    clause.push_str(" AND relevant = 1");
    clause
}

/// The relevant failures `filter` selects, in no order: all that the
/// repeat, MTBF and failure-rate figures count.
pub async fn relevant(store: &Pool, filter: &Filter) -> Result<Vec<FailureRecord>, sqlx::Error> {
    let mut vals = Vec::new();
    let clause = relevant_clause(filter, &mut vals);
    read_failures(store, clause, vals).await
}

/// The relevant failures `filter` selects whose serial has another of the
/// same mode among them, in no order: all that can be a repeat failure.
pub async fn repeat_candidates(
    store: &Pool,
    filter: &Filter,
) -> Result<Vec<FailureRecord>, sqlx::Error> {
    let mut vals = Vec::new();
    let mut clause = relevant_clause(filter, &mut vals);
    // The roll-up counts every relevant failure, filtered or not: the
    // pairs it gives are a superset of those with more than one failure
    // the filter selects, and `analysis::repeats` pairs only what is read.
    clause.push_str(
        " AND (serial, failure_mode) IN (SELECT serial, failure_mode
             FROM fracas_serial_mode_counts WHERE relevant > 1)",
    );
    read_failures(store, clause, vals).await
}

/// The relevant failures `filter` selects of any of `modes` on any of
/// `models`, reported after `after` (a stored time) when given, oldest
/// first: what a corrective action is checked against.
pub async fn relevant_failures(
    store: &Pool,
    filter: &Filter,
    modes: &[String],
    models: &[String],
    after: Option<&str>,
) -> Result<Vec<FailureRecord>, sqlx::Error> {
    if modes.is_empty() || models.is_empty() {
        return Ok(Vec::new());
    }
    let mut vals = Vec::new();
    let mut clause = relevant_clause(filter, &mut vals);
    for (column, list) in [("failure_mode", modes), ("product_model", models)] {
        let placeholders = crate::rows::tuple(vals.len() + 1, list.len());
        clause.push_str(&format!(" AND {column} IN {placeholders}"));
        vals.extend(list.iter().cloned().map(Val::Text));
    }
    push(
        &mut clause,
        " AND occurred_at > {}",
        after.map(str::to_owned),
        &mut vals,
    );
    read_failures(store, clause, vals).await
}

/// One page of failure history, oldest first, and the next page's cursor.
pub async fn history(
    store: &Pool,
    filter: &Filter,
    after: Option<&Cursor>,
    size: i64,
) -> Result<(Vec<FailureRecord>, Option<Cursor>), sqlx::Error> {
    let mut vals = Vec::new();
    let mut clause = where_clause(filter, &mut vals);
    if let Some(c) = after {
        vals.push(Val::Text(c.occurred_at.clone()));
        let a = vals.len();
        vals.push(Val::Int(c.record_no));
        vals.push(Val::Text(c.ticket_id.clone()));
        // A row comparison, so the index in listing order starts the page.
        clause.push_str(&format!(
            " AND (occurred_at, record_no, ticket_id) > (${a}, ${b}, ${c})",
            b = a + 1,
            c = a + 2
        ));
    }
    vals.push(Val::Int(size + 1));
    let sql = format!(
        "SELECT {FAILURE_COLUMNS} FROM fracas_failures{clause}{OLDEST_FIRST} LIMIT ${}",
        vals.len()
    );
    let mut page: Vec<FailureRecord> = store
        .texts(&sql, vals)
        .await?
        .iter()
        .map(decode_failure)
        .collect::<Result<_, _>>()?;
    let more = page.len() as i64 > size;
    page.truncate(usize::try_from(size).unwrap_or(0));
    let next = page.last().filter(|_| more).map(|r| Cursor {
        occurred_at: crate::db::sortable_time(r.occurred_at),
        ticket_id: r.ticket_id.clone(),
        record_no: i64::from(r.record_no),
    });
    Ok((page, next))
}

/// Units seen in tickets, optionally of one model / batch.
pub async fn units(store: &Pool, filter: &Filter) -> Result<Vec<Unit>, sqlx::Error> {
    let mut vals = Vec::new();
    let mut sql = format!("SELECT {UNIT_COLUMNS} FROM fracas_units WHERE 1 = 1");
    for (col, v) in [
        ("product_model", &filter.product_model),
        ("batch", &filter.batch),
    ] {
        if let Some(v) = v {
            vals.push(Val::Text(v.clone()));
            sql.push_str(&format!(" AND {col} = ${}", vals.len()));
        }
    }
    store
        .texts(&sql, vals)
        .await?
        .iter()
        .map(decode_unit)
        .collect()
}

/// The columns of `fracas_units` [`decode_unit`] reads, in its order.
pub(super) const UNIT_COLUMNS: &str =
    "ticket_id, product_model, serial, batch, in_service_on, received_on";

/// A `fracas_units` row read as [`UNIT_COLUMNS`].
pub(super) fn decode_unit(c: &Cells) -> Result<Unit, sqlx::Error> {
    Ok(Unit {
        ticket_id: text(&c[0]),
        product_model: text(&c[1]),
        serial: text(&c[2]),
        batch: c[3].clone(),
        in_service_on: c[4].as_deref().and_then(|d| d.parse().ok()),
        received_on: text(&c[5])
            .parse()
            .map_err(|_| sqlx::Error::Decode("fracas_units.received_on".into()))?,
    })
}

/// A corrective action as the read model holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionRow {
    pub action_id: String,
    pub title: String,
    pub status: String,
    pub opened_at: String,
    pub opened_by: String,
    pub implemented_on: Option<String>,
    pub window_to: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    #[sqlx(skip)]
    pub failure_modes: Vec<String>,
    #[sqlx(skip)]
    pub models: Vec<String>,
}

/// Every corrective action, oldest first.
pub async fn actions(store: &Pool) -> Result<Vec<ActionRow>, sqlx::Error> {
    let mut scope: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for c in store
        .texts(
            "SELECT action_id, kind, value FROM fracas_action_scope ORDER BY action_id, kind, value",
            vec![],
        )
        .await?
    {
        let e = scope.entry(text(&c[0])).or_default();
        if c[1].as_deref() == Some("mode") {
            e.0.push(text(&c[2]));
        } else {
            e.1.push(text(&c[2]));
        }
    }
    let mut rows: Vec<ActionRow> = store
        .fetch(
            "SELECT action_id, title, status, opened_at, opened_by, implemented_on, window_to, closed_at, closed_by
               FROM fracas_actions ORDER BY opened_at, action_id",
            vec![],
        )
        .await?;
    for row in &mut rows {
        (row.failure_modes, row.models) = scope.remove(&row.action_id).unwrap_or_default();
    }
    Ok(rows)
}

/// Relevant failures of any of `modes` on any of `models` on or after
/// `from`: the facts a corrective action's closure is checked against.
pub async fn recurrences(
    store: &Pool,
    modes: &[String],
    models: &[String],
    from: NaiveDate,
) -> Result<Vec<Recurrence>, sqlx::Error> {
    let filter = Filter {
        from: Some(from),
        ..Filter::default()
    };
    Ok(relevant_failures(store, &filter, modes, models, None)
        .await?
        .into_iter()
        .map(|f| Recurrence {
            ticket_id: f.ticket_id,
            serial: f.serial,
            product_model: f.product_model,
            failure_mode: f.failure_mode,
            failed_on: f.failed_on,
        })
        .collect())
}

/// The corrective actions linked to each of `tickets` (action ids in order).
pub async fn linked_actions(
    store: &Pool,
    tickets: &[String],
) -> Result<BTreeMap<String, Vec<String>>, sqlx::Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if tickets.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT ticket_id, action_id FROM fracas_action_links WHERE ticket_id IN {}
          ORDER BY ticket_id, action_id",
        crate::rows::tuple(1, tickets.len())
    );
    let vals = tickets.iter().cloned().map(Val::Text).collect();
    for c in store.texts(&sql, vals).await? {
        out.entry(text(&c[0])).or_default().push(text(&c[1]));
    }
    Ok(out)
}

/// A planned 8D discipline not done, of an action not closed, due before
/// the as-of date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueStep {
    pub action_id: String,
    pub title: String,
    pub discipline: String,
    pub owner: String,
    pub due_on: NaiveDate,
}

/// Every overdue 8D step on `as_of`, most overdue first.
pub async fn overdue_steps(
    store: &Pool,
    as_of: NaiveDate,
) -> Result<Vec<OverdueStep>, sqlx::Error> {
    let rows = store
        .texts(
            "SELECT p.action_id, a.title, p.discipline, p.owner, p.due_on
               FROM fracas_action_plan p JOIN fracas_actions a ON a.action_id = p.action_id
              WHERE p.done = 0 AND p.due_on < $1 AND a.status <> 'closed'
              ORDER BY p.due_on, p.action_id, p.discipline",
            vec![Val::Text(as_of.to_string())],
        )
        .await?;
    rows.iter()
        .map(|c| {
            Ok(OverdueStep {
                action_id: text(&c[0]),
                title: text(&c[1]),
                discipline: text(&c[2]),
                owner: text(&c[3]),
                due_on: text(&c[4])
                    .parse()
                    .map_err(|_| sqlx::Error::Decode("fracas_action_plan.due_on".into()))?,
            })
        })
        .collect()
}
