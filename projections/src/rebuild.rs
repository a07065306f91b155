//! Rebuilding a read model from position 0 while writes continue, on
//! either store, for any [`Projection`].
//!
//! 1. Create a shadow of each table (`<table>_rebuild`: the live table's
//!    columns and primary key, no secondary index) and fill it from the
//!    log, batch by batch, with the same [`batch`] the live runner uses;
//!    the live runner and readers carry on.
//! 2. In one transaction: lock the live checkpoint (the live runner waits),
//!    apply to the shadow whatever arrived since, read the live tables'
//!    secondary indexes from the catalog, swap the tables, build those
//!    indexes on the filled tables, move the live checkpoint to the
//!    shadow's. Readers see the old tables until the commit and the new
//!    ones after. The indexes are the migrations' own (read back, not
//!    restated), built once after the fill rather than kept during it.

use crate::db::{Pool, Tx, Val};
use crate::engine::{apply_after, batch, Context, Projection, Target};
use crate::ProjectionError;

/// Events applied per rebuild transaction.
const CHUNK: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events read from the log.
    pub events: u64,
    /// The position the new tables are at.
    pub position: i64,
}

/// Rebuilds `p`; `progress(position, head)` after every chunk.
pub async fn rebuild(
    pool: &Pool,
    p: &dyn Projection,
    cx: &Context,
    mut progress: impl FnMut(i64, i64),
) -> Result<Rebuilt, ProjectionError> {
    let (live, shadow) = (Target::live(p), Target::shadow(p));
    for table in p.tables() {
        create_shadow(pool, table, &shadow.table(table)).await?;
    }
    // The shadow's checkpoint exists from the start, made under the live
    // one's lock: a writer outside the log that moves the read model's
    // rows (an installed-base registration, `fracas::base::register`)
    // takes the live lock, then sees the shadow and moves it too.
    let mut tx = pool.begin().await?;
    tx.lock_checkpoint(&live.checkpoint).await?;
    tx.drop_checkpoint(&shadow.checkpoint).await?;
    tx.lock_checkpoint(&shadow.checkpoint).await?;
    tx.move_checkpoint(&shadow.checkpoint, 0).await?;
    tx.commit().await?;
    let mut events = 0_u64;
    loop {
        let n = batch(pool, p, &shadow, cx, CHUNK, None).await?;
        events += n as u64;
        progress(
            pool.checkpoint(&shadow.checkpoint).await?,
            pool.head().await?,
        );
        if n == 0 {
            break;
        }
    }
    let mut tx = pool.begin().await?;
    tx.lock_checkpoint(&live.checkpoint).await?;
    let mut position = tx.lock_checkpoint(&shadow.checkpoint).await?;
    loop {
        let (n, at) = apply_after(&mut tx, p, &shadow, cx, position, CHUNK, None).await?;
        events += n as u64;
        position = at;
        if n == 0 {
            break;
        }
    }
    for table in p.tables() {
        swap(&mut tx, table, &shadow.table(table)).await?;
    }
    tx.move_checkpoint(&live.checkpoint, position).await?;
    tx.drop_checkpoint(&shadow.checkpoint).await?;
    tx.commit().await?;
    Ok(Rebuilt { events, position })
}

/// Creates `shadow` empty, with `table`'s columns and primary key and no
/// secondary index.
async fn create_shadow(pool: &Pool, table: &str, shadow: &str) -> Result<(), ProjectionError> {
    pool.execute(&format!("DROP TABLE IF EXISTS {shadow}"))
        .await?;
    match pool {
        Pool::Postgres(_) => {
            pool.execute(&format!(
                "CREATE TABLE {shadow} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            ))
            .await?;
            let key = one(
                pool.texts(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint
                      WHERE conrelid = $1::regclass AND contype = 'p'",
                    vec![Val::Text(table.to_owned())],
                )
                .await?,
                table,
            )?;
            pool.execute(&format!("ALTER TABLE {shadow} ADD {key}"))
                .await?;
        }
        Pool::Sqlite(_) => {
            let ddl = one(
                pool.texts(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1",
                    vec![Val::Text(table.to_owned())],
                )
                .await?,
                table,
            )?;
            // The column and constraint list, as the migrations wrote it.
            let columns = ddl
                .find('(')
                .map(|at| &ddl[at..])
                .ok_or_else(|| catalog(table))?;
            pool.execute(&format!("CREATE TABLE {shadow} {columns}"))
                .await?;
        }
    }
    Ok(())
}

/// Replaces `table` by `shadow` inside `tx`, then builds on it the
/// secondary indexes `table` had (their definitions read back verbatim
/// before the drop: they name `table`, which is then the filled one).
async fn swap(tx: &mut Tx, table: &str, shadow: &str) -> Result<(), ProjectionError> {
    let name = vec![Val::Text(table.to_owned())];
    let (indexes, key_rename) = match tx {
        Tx::Postgres(_) => (
            tx.texts(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index
                  WHERE indrelid = $1::regclass AND NOT indisprimary",
                name,
            )
            .await?,
            Some(format!("ALTER INDEX {shadow}_pkey RENAME TO {table}_pkey")),
        ),
        Tx::Sqlite(_) => (
            tx.texts(
                "SELECT sql FROM sqlite_master
                  WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
                name,
            )
            .await?,
            None,
        ),
    };
    tx.run(&format!("DROP TABLE {table}"), vec![]).await?;
    tx.run(&format!("ALTER TABLE {shadow} RENAME TO {table}"), vec![])
        .await?;
    if let Some(rename) = key_rename {
        tx.run(&rename, vec![]).await?;
    }
    for ddl in indexes.into_iter().flatten().flatten() {
        tx.run(&ddl, vec![]).await?;
    }
    Ok(())
}

fn one(cells: Vec<crate::db::Cells>, table: &str) -> Result<String, ProjectionError> {
    cells
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
        .ok_or_else(|| catalog(table))
}

fn catalog(table: &str) -> ProjectionError {
    ProjectionError::Store(sqlx::Error::Configuration(
        format!("the catalog does not describe table {table}").into(),
    ))
}
