//! Reading the ticket summary: filtered, newest first, keyset-paged.

use chrono::{DateTime, Utc};

use crate::db::{Pool, Val};

/// All filters optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub statuses: Vec<String>,
    /// The customer's id (names and phones are sealed: a phone number is
    /// turned into the id by its keyed lookup before it gets here).
    pub customer_id: Option<String>,
    pub serial_number: Option<String>,
    pub product_model: Option<String>,
    pub technician: Option<String>,
    pub received_from: Option<DateTime<Utc>>,
    pub received_to: Option<DateTime<Utc>>,
    /// Continue after this (received_at, ticket_id).
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: i64,
}

/// A row of the summary, as either store gives it back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SummaryRow {
    pub ticket_id: String,
    pub version: i64,
    pub status: String,
    pub kind: String,
    pub priority: String,
    pub customer_name: String,
    pub customer_phone: String,
    pub serial_number: String,
    pub product_model: String,
    pub technician: Option<String>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "SELECT ticket_id, version, status, kind, priority, customer_name, customer_phone,
       serial_number, product_model, technician, received_at, updated_at FROM ticket_summary WHERE 1 = 1";

/// The page of the summary `filter` asks for, on either store.
pub async fn list(pool: &Pool, filter: &ListFilter) -> Result<Vec<SummaryRow>, sqlx::Error> {
    let mut vals = Vec::new();
    let mut param = |v: Val| {
        vals.push(v);
        format!("${}", vals.len())
    };
    let mut sql = String::from(COLUMNS);
    if !filter.statuses.is_empty() {
        // One status (the common case) reads the (status, received_at,
        // ticket_id) index in page order: no sort, however many match.
        let list: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| param(Val::Text(s.clone())))
            .collect();
        sql.push_str(&format!(" AND status IN ({})", list.join(", ")));
    }
    if let Some(c) = &filter.customer_id {
        sql.push_str(&format!(
            " AND customer_id = {}",
            param(Val::Text(c.clone()))
        ));
    }
    for (column, value) in [
        ("serial_number", &filter.serial_number),
        ("product_model", &filter.product_model),
        ("technician", &filter.technician),
    ] {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {column} = {}", param(Val::Text(v.clone()))));
        }
    }
    if let Some(from) = filter.received_from {
        sql.push_str(&format!(" AND received_at >= {}", param(Val::At(from))));
    }
    if let Some(to) = filter.received_to {
        sql.push_str(&format!(" AND received_at < {}", param(Val::At(to))));
    }
    if let Some((at, id)) = &filter.after {
        let (at, id) = (param(Val::At(*at)), param(Val::Text(id.clone())));
        sql.push_str(&format!(" AND (received_at, ticket_id) < ({at}, {id})"));
    }
    let limit = param(Val::Int(filter.limit));
    sql.push_str(&format!(
        " ORDER BY received_at DESC, ticket_id DESC LIMIT {limit}"
    ));
    pool.fetch(&sql, vals).await
}
