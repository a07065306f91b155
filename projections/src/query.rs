//! Reading the ticket summary: filtered, newest first, keyset-paged.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, QueryBuilder, Row, SqlitePool};

use crate::db::sortable_time;
use crate::log::parse_time;

/// All filters optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub statuses: Vec<String>,
    /// Substring of the name (case-insensitive) or the exact phone.
    pub customer: Option<String>,
    pub serial_number: Option<String>,
    pub product_model: Option<String>,
    pub technician: Option<String>,
    pub received_from: Option<DateTime<Utc>>,
    pub received_to: Option<DateTime<Utc>>,
    /// Continue after this (received_at, ticket_id).
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_pattern(raw: &str) -> String {
    let escaped: String = raw
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{}%", escaped.to_lowercase())
}

pub async fn list_postgres(
    pool: &PgPool,
    filter: &ListFilter,
) -> Result<Vec<SummaryRow>, sqlx::Error> {
    let mut q = QueryBuilder::<sqlx::Postgres>::new(COLUMNS);
    match filter.statuses.as_slice() {
        [] => {}
        // One status (the common case) reads the (status, received_at,
        // ticket_id) index in page order: no sort, however many match.
        [status] => {
            q.push(" AND status = ").push_bind(status.clone());
        }
        statuses => {
            q.push(" AND status = ANY(")
                .push_bind(statuses.to_vec())
                .push(")");
        }
    }
    if let Some(c) = &filter.customer {
        q.push(" AND (lower(customer_name) LIKE ")
            .push_bind(like_pattern(c))
            .push(" ESCAPE '\\' OR customer_phone = ")
            .push_bind(c.clone())
            .push(")");
    }
    push_equal(&mut q, "serial_number", &filter.serial_number);
    push_equal(&mut q, "product_model", &filter.product_model);
    push_equal(&mut q, "technician", &filter.technician);
    if let Some(from) = filter.received_from {
        q.push(" AND received_at >= ").push_bind(from);
    }
    if let Some(to) = filter.received_to {
        q.push(" AND received_at < ").push_bind(to);
    }
    if let Some((at, id)) = &filter.after {
        q.push(" AND (received_at, ticket_id) < (")
            .push_bind(*at)
            .push(", ")
            .push_bind(id.clone())
            .push(")");
    }
    q.push(" ORDER BY received_at DESC, ticket_id DESC LIMIT ")
        .push_bind(filter.limit);
    q.build()
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| {
            Ok(SummaryRow {
                ticket_id: row.try_get("ticket_id")?,
                version: row.try_get("version")?,
                status: row.try_get("status")?,
                kind: row.try_get("kind")?,
                priority: row.try_get("priority")?,
                customer_name: row.try_get("customer_name")?,
                customer_phone: row.try_get("customer_phone")?,
                serial_number: row.try_get("serial_number")?,
                product_model: row.try_get("product_model")?,
                technician: row.try_get("technician")?,
                received_at: row.try_get("received_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .collect()
}

fn push_equal<'a, DB: sqlx::Database>(
    q: &mut QueryBuilder<'a, DB>,
    column: &str,
    value: &Option<String>,
) where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(v) = value {
        q.push(format!(" AND {column} = ")).push_bind(v.clone());
    }
}

pub async fn list_sqlite(
    pool: &SqlitePool,
    filter: &ListFilter,
) -> Result<Vec<SummaryRow>, sqlx::Error> {
    let mut q = QueryBuilder::<sqlx::Sqlite>::new(COLUMNS);
    if !filter.statuses.is_empty() {
        q.push(" AND status IN (");
        let mut list = q.separated(", ");
        for status in &filter.statuses {
            list.push_bind(status.clone());
        }
        q.push(")");
    }
    if let Some(c) = &filter.customer {
        q.push(" AND (lower(customer_name) LIKE ")
            .push_bind(like_pattern(c))
            .push(" ESCAPE '\\' OR customer_phone = ")
            .push_bind(c.clone())
            .push(")");
    }
    push_equal(&mut q, "serial_number", &filter.serial_number);
    push_equal(&mut q, "product_model", &filter.product_model);
    push_equal(&mut q, "technician", &filter.technician);
    if let Some(from) = filter.received_from {
        q.push(" AND received_at >= ")
            .push_bind(sortable_time(from));
    }
    if let Some(to) = filter.received_to {
        q.push(" AND received_at < ").push_bind(sortable_time(to));
    }
    if let Some((at, id)) = &filter.after {
        q.push(" AND (received_at, ticket_id) < (")
            .push_bind(sortable_time(*at))
            .push(", ")
            .push_bind(id.clone())
            .push(")");
    }
    q.push(" ORDER BY received_at DESC, ticket_id DESC LIMIT ")
        .push_bind(filter.limit);
    q.build()
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| {
            let received_at: String = row.try_get("received_at")?;
            let updated_at: String = row.try_get("updated_at")?;
            Ok(SummaryRow {
                ticket_id: row.try_get("ticket_id")?,
                version: row.try_get("version")?,
                status: row.try_get("status")?,
                kind: row.try_get("kind")?,
                priority: row.try_get("priority")?,
                customer_name: row.try_get("customer_name")?,
                customer_phone: row.try_get("customer_phone")?,
                serial_number: row.try_get("serial_number")?,
                product_model: row.try_get("product_model")?,
                technician: row.try_get("technician")?,
                received_at: parse_time(&received_at)?,
                updated_at: parse_time(&updated_at)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards_and_lowercases() {
        assert_eq!(like_pattern("Li_50%"), "%li\\_50\\%%");
    }
}
