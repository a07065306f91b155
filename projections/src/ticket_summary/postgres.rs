//! The ticket summary's writes on PostgreSQL.

use sqlx::{Postgres, Transaction};

use super::Change;

/// Writes a coalesced batch with two statements: every new row in one
/// `INSERT … SELECT FROM UNNEST`, every update in one `UPDATE … FROM UNNEST`.
pub(super) async fn write(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    changes: Vec<Change>,
) -> Result<(), sqlx::Error> {
    let mut new = NewRows::default();
    let mut up = Updates::default();
    for change in changes {
        match change {
            Change::Insert(row) => {
                new.ticket_id.push(row.ticket_id);
                new.version.push(row.version);
                new.status.push(row.status.as_str().to_owned());
                new.kind.push(row.kind);
                new.priority.push(row.priority);
                new.customer_name.push(row.customer_name);
                new.customer_phone.push(row.customer_phone);
                new.serial_number.push(row.serial_number);
                new.product_model.push(row.product_model);
                new.received_at.push(row.received_at);
            }
            Change::Update {
                ticket_id,
                version,
                updated_at,
                status,
                technician,
            } => {
                up.ticket_id.push(ticket_id);
                up.version.push(version);
                up.updated_at.push(updated_at);
                up.status.push(status.map(|s| s.as_str().to_owned()));
                up.technician.push(technician);
            }
        }
    }
    if !new.ticket_id.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO {table} (ticket_id, version, status, kind, priority, customer_name,
                 customer_phone, serial_number, product_model, technician, received_at, updated_at)
             SELECT n.ticket_id, n.version, n.status, n.kind, n.priority, n.customer_name,
                    n.customer_phone, n.serial_number, n.product_model, NULL, n.received_at, n.received_at
               FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                           $7::text[], $8::text[], $9::text[], $10::timestamptz[])
                    AS n(ticket_id, version, status, kind, priority, customer_name,
                         customer_phone, serial_number, product_model, received_at)
             ON CONFLICT (ticket_id) DO NOTHING"
        ))
        .bind(&new.ticket_id)
        .bind(&new.version)
        .bind(&new.status)
        .bind(&new.kind)
        .bind(&new.priority)
        .bind(&new.customer_name)
        .bind(&new.customer_phone)
        .bind(&new.serial_number)
        .bind(&new.product_model)
        .bind(&new.received_at)
        .execute(&mut **tx)
        .await?;
    }
    if !up.ticket_id.is_empty() {
        sqlx::query(&format!(
            "UPDATE {table} AS t
                SET version = u.version, updated_at = u.updated_at,
                    status = COALESCE(u.status, t.status),
                    technician = COALESCE(u.technician, t.technician)
               FROM UNNEST($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[])
                    AS u(ticket_id, version, updated_at, status, technician)
              WHERE t.ticket_id = u.ticket_id"
        ))
        .bind(&up.ticket_id)
        .bind(&up.version)
        .bind(&up.updated_at)
        .bind(&up.status)
        .bind(&up.technician)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// New rows, column by column, for `UNNEST`.
#[derive(Debug, Default)]
struct NewRows {
    ticket_id: Vec<String>,
    version: Vec<i64>,
    status: Vec<String>,
    kind: Vec<String>,
    priority: Vec<String>,
    customer_name: Vec<String>,
    customer_phone: Vec<String>,
    serial_number: Vec<String>,
    product_model: Vec<String>,
    received_at: Vec<chrono::DateTime<chrono::Utc>>,
}

/// Updates, column by column, for `UNNEST`.
#[derive(Debug, Default)]
struct Updates {
    ticket_id: Vec<String>,
    version: Vec<i64>,
    updated_at: Vec<chrono::DateTime<chrono::Utc>>,
    status: Vec<Option<String>>,
    technician: Vec<Option<String>>,
}
