//! Operator tasks run from the command line: rebuilding read models.

use projections::rebuild::{rebuild_postgres, rebuild_sqlite, Rebuilt, PROJECTIONS};
use projections::ProjectionError;

use crate::store::Db;

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("unknown projection {0:?}; known: {known}", known = PROJECTIONS.join(", "))]
    Unknown(String),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// Rebuilds `projection` (or every projection) from position 0 while
/// writes continue, then switches readers to it. `progress(name, position,
/// head)` reports each step.
pub async fn rebuild(
    db: &Db,
    projection: Option<&str>,
    local: domain::LocalTime,
    mut progress: impl FnMut(&str, i64, i64),
) -> Result<Vec<(String, Rebuilt)>, RebuildError> {
    let names: Vec<&str> = match projection {
        None => PROJECTIONS.to_vec(),
        Some(name) => vec![PROJECTIONS
            .iter()
            .copied()
            .find(|p| *p == name)
            .ok_or_else(|| RebuildError::Unknown(name.to_owned()))?],
    };
    let mut done = Vec::new();
    for name in names {
        let report = |at, head| progress(name, at, head);
        let rebuilt = match db {
            Db::Postgres(pool) => rebuild_postgres(pool, name, local, report).await?,
            Db::Sqlite(pool) => rebuild_sqlite(pool, name, local, report).await?,
        };
        done.push((name.to_owned(), rebuilt));
    }
    Ok(done)
}
