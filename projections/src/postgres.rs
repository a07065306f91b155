//! The ticket summary on PostgreSQL.

use sqlx::{PgPool, Postgres, Transaction};

use crate::log::read_postgres;
use crate::ticket_summary::{change_for, Change, Target};
use crate::ProjectionError;

async fn checkpoint(pool: &PgPool, name: &str) -> Result<i64, sqlx::Error> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE projection = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(position.unwrap_or(0))
}

/// Where the projection stands (0 before its first batch).
pub async fn position(pool: &PgPool, name: &str) -> Result<i64, sqlx::Error> {
    checkpoint(pool, name).await
}

/// Applies the next batch of at most `limit` log events to `target`, rows
/// and checkpoint in one transaction. Returns how many were applied.
pub async fn ticket_summary_batch(
    pool: &PgPool,
    target: &Target,
    limit: i64,
) -> Result<usize, ProjectionError> {
    // Cheap look without locks first: an idle runner writes nothing.
    let seen = checkpoint(pool, &target.checkpoint).await?;
    if read_postgres(pool, seen, 1).await?.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let from = lock_checkpoint(&mut tx, &target.checkpoint).await?;
    let (applied, _) = apply_after(&mut tx, target, from, limit).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Upserting the checkpoint row locks it until commit and returns it as
/// any other runner left it: two runners never apply the same event.
pub(crate) async fn lock_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    name: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0)
         ON CONFLICT (projection) DO UPDATE SET updated_at = now()
         RETURNING position",
    )
    .bind(name)
    .fetch_one(&mut **tx)
    .await
}

/// Applies up to `limit` events after `from` to `target` inside `tx` and
/// moves its checkpoint. Returns how many, and the new position.
pub(crate) async fn apply_after(
    tx: &mut Transaction<'_, Postgres>,
    target: &Target,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_postgres(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    for raw in batch.iter().filter(|e| e.aggregate_type == "Ticket") {
        apply(tx, &target.table, change_for(&raw.decode()?)).await?;
    }
    sqlx::query(
        "UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE projection = $1",
    )
    .bind(&target.checkpoint)
    .bind(last)
    .execute(&mut **tx)
    .await?;
    Ok((batch.len(), last))
}

async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    change: Change,
) -> Result<(), sqlx::Error> {
    match change {
        Change::Insert(row) => {
            sqlx::query(&format!(
                "INSERT INTO {table} (ticket_id, version, status, kind, priority, customer_name,
                     customer_phone, serial_number, product_model, technician, received_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10)
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
            .bind(row.received_at)
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
                    SET version = $2, updated_at = $3,
                        status = COALESCE($4, status), technician = COALESCE($5, technician)
                  WHERE ticket_id = $1"
            ))
            .bind(ticket_id)
            .bind(version)
            .bind(updated_at)
            .bind(status.map(|s| s.as_str()))
            .bind(technician)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
