//! The ticket summary's writes on SQLite.

use sqlx::{Sqlite, Transaction};

use super::Change;
use crate::db::sortable_time;

/// Writes a coalesced batch, one statement per change.
pub(super) async fn write(
    tx: &mut Transaction<'_, Sqlite>,
    table: &str,
    changes: Vec<Change>,
) -> Result<(), sqlx::Error> {
    for change in changes {
        apply(tx, table, change).await?;
    }
    Ok(())
}

async fn apply(
    tx: &mut Transaction<'_, Sqlite>,
    table: &str,
    change: Change,
) -> Result<(), sqlx::Error> {
    match change {
        Change::Insert(row) => {
            sqlx::query(&format!(
                "INSERT INTO {table} (ticket_id, version, status, kind, priority, customer_name,
                     customer_phone, serial_number, product_model, technician, received_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?10)
                 ON CONFLICT (ticket_id) DO NOTHING"
            ))
            .bind(&row.ticket_id)
            .bind(row.version)
            .bind(row.status.as_str())
            .bind(&row.kind)
            .bind(&row.priority)
            .bind(&row.customer_name)
            .bind(&row.customer_phone)
            .bind(&row.serial_number)
            .bind(&row.product_model)
            .bind(sortable_time(row.received_at))
            .execute(&mut **tx)
            .await?;
        }
        Change::Update {
            ticket_id,
            version,
            updated_at,
            status,
            technician,
        } => {
            sqlx::query(&format!(
                "UPDATE {table}
                    SET version = ?2, updated_at = ?3,
                        status = COALESCE(?4, status), technician = COALESCE(?5, technician)
                  WHERE ticket_id = ?1"
            ))
            .bind(ticket_id)
            .bind(version)
            .bind(sortable_time(updated_at))
            .bind(status.map(|s| s.as_str()))
            .bind(technician)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
