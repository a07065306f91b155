//! Cost ledger reports: the same SQL on both stores, every cell returned as
//! text (money in minor units with its currency beside it), and CSV.

use domain::ticket::types::Region;

use super::ledger::Bearer;
use crate::db::{Pool, Val};
use crate::report::{Page, Table};

/// The reports the ledger offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Every ledger line matching the filter.
    Lines,
    /// Company-borne cost per product model and sale month (cohort).
    WarrantyBySaleMonth,
    /// Company-borne cost per product model and month of the cost.
    WarrantyByRepairMonth,
    /// Supplier-borne (recoverable) lines not yet recovered, per ticket and part.
    SupplierRecoveries,
    /// Goodwill per approver and tier.
    GoodwillByApprover,
    /// Parts used per part number and month.
    PartsByMonth,
    /// Quoted against actual per line kind.
    QuoteVsActual,
    /// Invoiced, paid and outstanding.
    Billing,
}

/// Optional filters; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// First month included, "YYYY-MM".
    pub from_month: Option<String>,
    /// Last month included, "YYYY-MM".
    pub to_month: Option<String>,
    pub product_model: Option<String>,
    pub region: Option<Region>,
    pub bearer: Option<Bearer>,
}

/// WHERE clauses over `cost_lines` (alias-free) for `filter`, with `month`
/// naming the month column to filter on.
fn line_filter(filter: &Filter, month: &str, vals: &mut Vec<Val>) -> String {
    format!(" WHERE 1 = 1{}", clauses(filter, month, vals))
}

/// `filter`'s clauses, each starting " AND ".
fn clauses(filter: &Filter, month: &str, vals: &mut Vec<Val>) -> String {
    let mut sql = String::new();
    let mut push = |clause: &str, v: &Option<String>, vals: &mut Vec<Val>| {
        if let Some(v) = v {
            vals.push(Val::Text(v.clone()));
            sql.push_str(&format!(" AND {clause} ${}", vals.len()));
        }
    };
    push(&format!("{month} >="), &filter.from_month, vals);
    push(&format!("{month} <="), &filter.to_month, vals);
    push("product_model =", &filter.product_model, vals);
    let name = |v: Option<&'static str>| v.map(str::to_owned);
    push("region =", &name(filter.region.map(Region::as_str)), vals);
    push("bearer =", &name(filter.bearer.map(Bearer::as_str)), vals);
    sql
}

/// `start` and the clauses over `cost_tickets` for `filter` (no bearer:
/// a ticket has none).
fn ticket_filter(filter: &Filter, start: &str, vals: &mut Vec<Val>) -> String {
    let mut f = filter.clone();
    f.bearer = None;
    format!("{start}{}", clauses(&f, "first_month", vals))
}

const LINE_COLUMNS: [&str; 15] = [
    "ticket_id",
    "line_no",
    "cycle",
    "kind",
    "bearer",
    "amount_minor",
    "currency",
    "part_number",
    "quantity",
    "occurred_at",
    "product_model",
    "sale_month",
    "region",
    "approver",
    "tier",
];

/// Where a page of the line listing starts: after this line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCursor {
    pub occurred_at: String,
    pub ticket_id: String,
    pub line_no: i64,
}

impl LineCursor {
    /// An opaque page token.
    pub fn token(&self) -> String {
        format!("{}|{}|{}", self.occurred_at, self.line_no, self.ticket_id)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '|');
        let occurred_at = parts.next()?.to_owned();
        let line_no = parts.next()?.parse().ok()?;
        let ticket_id = parts.next()?.to_owned();
        Some(Self {
            occurred_at,
            ticket_id,
            line_no,
        })
    }
}

/// The line listing, oldest first, after `after` when given. The order's
/// columns are qualified: unqualified, `line_no` would name the text cast
/// of the select list, and line 10 would sort before line 2.
fn lines_sql(filter: &Filter, after: Option<&LineCursor>, vals: &mut Vec<Val>) -> String {
    let mut clause = line_filter(filter, "occurred_month", vals);
    if let Some(c) = after {
        vals.push(Val::Text(c.occurred_at.clone()));
        let a = vals.len();
        vals.push(Val::Text(c.ticket_id.clone()));
        vals.push(Val::Int(c.line_no));
        // A row comparison, so the index in listing order starts the page.
        clause.push_str(&format!(
            " AND (occurred_at, ticket_id, line_no) > (${a}, ${b}, ${c})",
            b = a + 1,
            c = a + 2
        ));
    }
    format!(
        "SELECT ticket_id, CAST(line_no AS TEXT), CAST(cycle AS TEXT), kind, bearer,
                CAST(amount_minor AS TEXT), currency, part_number, CAST(quantity AS TEXT),
                occurred_at, product_model, sale_month, region, approver, tier
           FROM cost_lines{clause}
          ORDER BY cost_lines.occurred_at, cost_lines.ticket_id, cost_lines.line_no"
    )
}

/// One page of the lines (`Report::Lines`), oldest first; the table's
/// `next_page_token` says where the next page starts.
pub async fn lines_page(
    pool: &Pool,
    filter: &Filter,
    page: &Page<LineCursor>,
) -> Result<Table, sqlx::Error> {
    let size = page.size;
    let mut vals = Vec::new();
    let sql = lines_sql(filter, page.after.as_ref(), &mut vals);
    vals.push(Val::Int(size + 1));
    let sql = format!("{sql} LIMIT ${}", vals.len());
    let mut rows: Vec<Vec<String>> = pool
        .texts(&sql, vals)
        .await?
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect();
    let more = rows.len() as i64 > size;
    rows.truncate(usize::try_from(size).unwrap_or(0));
    let next = rows.last().filter(|_| more).and_then(|r| {
        Some(LineCursor {
            ticket_id: r[0].clone(),
            line_no: r[1].parse().ok()?,
            occurred_at: r[9].clone(),
        })
    });
    let mut table = Table::new(&LINE_COLUMNS, rows);
    table.next_page_token = next.map(|c| c.token());
    Ok(table)
}

fn build(report: Report, filter: &Filter) -> (Vec<&'static str>, String, Vec<Val>) {
    let mut vals = Vec::new();
    let (columns, sql): (Vec<&'static str>, String) = match report {
        Report::Lines => (LINE_COLUMNS.to_vec(), lines_sql(filter, None, &mut vals)),
        // Read from the roll-up the projection keeps (`cost_warranty`), not
        // from every line: one row per cell, whatever the number of lines.
        Report::WarrantyBySaleMonth | Report::WarrantyByRepairMonth => {
            let (month, basis) = if report == Report::WarrantyBySaleMonth {
                ("sale_month", "sale")
            } else {
                ("occurred_month", "repair")
            };
            vals.push(Val::Text(basis.to_owned()));
            let mut f = filter.clone();
            f.bearer = None;
            let filter = line_filter(&f, "NULLIF(month, '')", &mut vals);
            (
                vec!["product_model", month, "currency", "tickets", "amount_minor"],
                format!(
                    "SELECT product_model, NULLIF(month, ''), currency, CAST(SUM(tickets) AS TEXT),
                            CAST(SUM(amount_minor) AS TEXT)
                       FROM cost_warranty{filter} AND basis = $1
                      GROUP BY product_model, month, currency
                      ORDER BY product_model, NULLIF(month, ''), currency"
                ),
            )
        }
        Report::SupplierRecoveries => {
            let mut f = filter.clone();
            f.bearer = Some(Bearer::Supplier);
            (
                vec!["ticket_id", "part_number", "currency", "quantity", "amount_minor"],
                format!(
                    "SELECT ticket_id, part_number, currency, CAST(SUM(quantity) AS TEXT), CAST(SUM(amount_minor) AS TEXT)
                       FROM cost_lines{} GROUP BY ticket_id, part_number, currency
                      ORDER BY ticket_id, part_number",
                    line_filter(&f, "occurred_month", &mut vals)
                ),
            )
        }
        Report::GoodwillByApprover => {
            let mut f = filter.clone();
            f.bearer = Some(Bearer::Goodwill);
            (
                vec!["approver", "tier", "currency", "tickets", "amount_minor"],
                format!(
                    "SELECT approver, tier, currency, CAST(COUNT(DISTINCT ticket_id) AS TEXT), CAST(SUM(amount_minor) AS TEXT)
                       FROM cost_lines{} GROUP BY approver, tier, currency ORDER BY approver, tier",
                    line_filter(&f, "occurred_month", &mut vals)
                ),
            )
        }
        // From the parts roll-up (`cost_parts`), not from every line.
        Report::PartsByMonth => (
            vec!["part_number", "occurred_month", "currency", "quantity", "amount_minor"],
            format!(
                "SELECT part_number, month, currency, CAST(SUM(quantity) AS TEXT), CAST(SUM(amount_minor) AS TEXT)
                   FROM cost_parts{}
                  GROUP BY part_number, month, currency ORDER BY part_number, month",
                line_filter(filter, "month", &mut vals)
            ),
        ),
        // From the roll-up (`cost_quote_actual`), not from every line and
        // quote row: the ticket filter's columns are its keys.
        Report::QuoteVsActual => {
            let tickets = ticket_filter(filter, " WHERE 1 = 1", &mut vals);
            (
                vec!["kind", "currency", "quoted_minor", "actual_minor", "variance_minor"],
                format!(
                    "SELECT kind, currency, CAST(SUM(quoted_minor) AS TEXT), CAST(SUM(actual_minor) AS TEXT),
                            CAST(SUM(actual_minor) - SUM(quoted_minor) AS TEXT)
                       FROM cost_quote_actual{tickets}
                      GROUP BY kind, currency ORDER BY kind, currency"
                ),
            )
        }
        Report::Billing => {
            let tickets = ticket_filter(filter, " WHERE currency IS NOT NULL", &mut vals);
            (
                vec!["currency", "tickets", "invoiced_minor", "paid_minor", "outstanding_minor"],
                format!(
                    "SELECT currency, CAST(COUNT(*) AS TEXT), CAST(SUM(invoiced_minor) AS TEXT),
                            CAST(SUM(paid_minor) AS TEXT), CAST(SUM(invoiced_minor - paid_minor) AS TEXT)
                       FROM cost_tickets{tickets} GROUP BY currency ORDER BY currency"
                ),
            )
        }
    };
    (columns, sql, vals)
}

pub async fn run(pool: &Pool, report: Report, filter: &Filter) -> Result<Table, sqlx::Error> {
    let (columns, sql, vals) = build(report, filter);
    let rows = pool.texts(&sql, vals).await?;
    Ok(Table::new(
        &columns,
        rows.into_iter()
            .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_cells_with_commas_quotes_and_newlines() {
        let t = Table::new(&["a", "b"], vec![vec!["x,y".into(), "say \"hi\"".into()]]);
        assert_eq!(t.to_csv(), "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n");
    }

    #[test]
    fn filters_become_numbered_parameters() {
        let filter = Filter {
            from_month: Some("2026-01".into()),
            product_model: Some("WM-800".into()),
            region: Some(Region::Remote),
            bearer: Some(Bearer::Goodwill),
            ..Filter::default()
        };
        let (_, sql, vals) = build(Report::Lines, &filter);
        assert!(
            sql.contains(
                "occurred_month >= $1 AND product_model = $2 AND region = $3 AND bearer = $4"
            ),
            "{sql}"
        );
        assert_eq!(
            vals[2..],
            [Val::Text("remote".into()), Val::Text("goodwill".into())],
            "the enums are bound by their stored names"
        );
    }
}
