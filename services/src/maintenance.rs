//! Operator tasks run from the command line: rebuilding read models.

use projections::engine::{self, Context, Projection, UnknownProjection, REGISTRY};
use projections::rebuild::Rebuilt;
use projections::ProjectionError;

use crate::store::Pool;

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    Unknown(#[from] UnknownProjection),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// Rebuilds `projection` (or every projection) from position 0 while
/// writes continue, then switches readers to it, computing with `cx`.
/// `progress(name, position, head)` reports each step.
pub async fn rebuild(
    db: &Pool,
    projection: Option<&str>,
    cx: Context,
    mut progress: impl FnMut(&str, i64, i64),
) -> Result<Vec<(String, Rebuilt)>, RebuildError> {
    let chosen: Vec<&'static dyn Projection> = match projection {
        None => REGISTRY.to_vec(),
        Some(name) => vec![engine::find(name)?],
    };
    let mut done = Vec::new();
    for p in chosen {
        let name = p.name();
        let report = |at, head| progress(name, at, head);
        let rebuilt = projections::rebuild::rebuild(db, p, &cx, report).await?;
        done.push((name.to_owned(), rebuilt));
    }
    Ok(done)
}
