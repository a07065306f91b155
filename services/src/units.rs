//! `ticketd import-units FILE`: the installed base from a CSV file
//! (docs/FRACAS.md, "Installed base"). Every line is checked first; with
//! any error nothing is written, and every bad line is reported.

use chrono::{DateTime, Utc};
use projections::fracas::installed::{parse_all, read_csv, CsvError};

use crate::store::Pool;

/// Why an import wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Unreadable(#[from] CsvError),
    /// One line per refusal: "line 4: quantity: ...".
    #[error("{} bad line(s), nothing imported:\n{}", .0.len(), .0.join("\n"))]
    BadLines(Vec<String>),
    #[error("the store refused the import, nothing imported: {0}")]
    Store(String),
}

/// Imports `text` (the file's content) as of `now`; returns the rows written.
pub async fn import(
    db: &Pool,
    text: &str,
    now: DateTime<Utc>,
    local: domain::LocalTime,
) -> Result<u64, ImportError> {
    let today = local.local_date(now);
    let units = parse_all(&read_csv(text)?, today).map_err(|errors| {
        ImportError::BadLines(
            errors
                .into_iter()
                .map(|(at, e)| format!("{at}: {e}"))
                .collect(),
        )
    })?;
    projections::fracas::base::register(db, &units, now)
        .await
        .map_err(|e| ImportError::Store(e.to_string()))
}
