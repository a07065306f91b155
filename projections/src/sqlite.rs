//! The ticket summary on SQLite.

use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::log::read_sqlite;
use crate::ticket_summary::{change_for, coalesce, sortable_time, Change, Target};
use crate::ProjectionError;

/// Where the projection stands (0 before its first batch).
pub async fn position(pool: &SqlitePool, name: &str) -> Result<i64, sqlx::Error> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE projection = ?1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(position.unwrap_or(0))
}

/// Applies the next batch of at most `limit` log events to `target`, rows
/// and checkpoint in one transaction. Returns how many were applied.
pub async fn ticket_summary_batch(
    pool: &SqlitePool,
    target: &Target,
    limit: i64,
) -> Result<usize, ProjectionError> {
    if !crate::sqlite::behind(pool, &target.checkpoint).await? {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let from = lock_checkpoint(&mut tx, &target.checkpoint).await?;
    let (applied, _) = apply_after(&mut tx, target, from, limit).await?;
    tx.commit().await?;
    Ok(applied)
}

/// True when the log holds events past `name`'s checkpoint. A cheap look
/// without locks, so that an idle runner takes no write lock.
pub async fn behind(pool: &SqlitePool, name: &str) -> Result<bool, ProjectionError> {
    let seen = position(pool, name).await?;
    Ok(!read_sqlite(pool, seen, 1).await?.is_empty())
}

/// Moves `name`'s checkpoint to `position`, in the batch's transaction.
pub(crate) async fn move_checkpoint(
    tx: &mut Transaction<'_, Sqlite>,
    name: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE projection_checkpoints SET position = ?2 WHERE projection = ?1")
        .bind(name)
        .bind(position)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writing first takes SQLite's write lock for the whole transaction, and
/// returns the checkpoint as the last writer left it.
pub(crate) async fn lock_checkpoint(
    tx: &mut Transaction<'_, Sqlite>,
    name: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO projection_checkpoints (projection, position) VALUES (?1, 0)
         ON CONFLICT (projection) DO UPDATE SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         RETURNING position",
    )
    .bind(name)
    .fetch_one(&mut **tx)
    .await
}

/// Applies up to `limit` events after `from` to `target` inside `tx` and
/// moves its checkpoint. Returns how many, and the new position.
pub(crate) async fn apply_after(
    tx: &mut Transaction<'_, Sqlite>,
    target: &Target,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_sqlite(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    let mut changes = Vec::with_capacity(batch.len());
    for raw in batch.iter().filter(|e| e.aggregate_type == "Ticket") {
        changes.push(change_for(&raw.decode()?));
    }
    for change in coalesce(changes) {
        apply(tx, &target.table, change).await?;
    }
    crate::sqlite::move_checkpoint(tx, &target.checkpoint, last).await?;
    Ok((batch.len(), last))
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
