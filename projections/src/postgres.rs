//! The ticket summary on PostgreSQL.

use sqlx::{PgPool, Postgres, Transaction};

use crate::log::read_postgres;
use crate::ticket_summary::{change_for, coalesce, Change, Target};
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
    if !crate::postgres::behind(pool, &target.checkpoint).await? {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let from = lock_checkpoint(&mut tx, &target.checkpoint).await?;
    let (applied, _) = apply_after(&mut tx, target, from, limit).await?;
    tx.commit().await?;
    Ok(applied)
}

/// True when the log holds events past `name`'s checkpoint. A cheap look
/// without locks, so that an idle runner writes nothing.
pub async fn behind(pool: &PgPool, name: &str) -> Result<bool, ProjectionError> {
    let seen = checkpoint(pool, name).await?;
    Ok(!read_postgres(pool, seen, 1).await?.is_empty())
}

/// Moves `name`'s checkpoint to `position`, in the batch's transaction.
pub(crate) async fn move_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    name: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE projection = $1",
    )
    .bind(name)
    .bind(position)
    .execute(&mut **tx)
    .await?;
    Ok(())
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
    let mut changes = Vec::with_capacity(batch.len());
    for raw in batch.iter().filter(|e| e.aggregate_type == "Ticket") {
        changes.push(change_for(&raw.decode()?));
    }
    apply(tx, &target.table, coalesce(changes)).await?;
    crate::postgres::move_checkpoint(tx, &target.checkpoint, last).await?;
    Ok((batch.len(), last))
}

/// Writes a coalesced batch with two statements: every new row in one
/// `INSERT … SELECT FROM UNNEST`, every update in one `UPDATE … FROM UNNEST`.
async fn apply(
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
