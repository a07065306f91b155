//! What the log has not taken in yet: events stored but not sequenced,
//! and on PostgreSQL the oldest transaction of this database that holds
//! them back (`GetLogStatus`, `/metrics`, and the log watcher's warning).

use crate::db::Pool;

/// Events stored and not yet in the log, and who holds them back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backlog {
    pub unsequenced: i64,
    /// The oldest transaction of this database holding a transaction id,
    /// when events wait (PostgreSQL only).
    pub blocker: Option<Blocker>,
}

/// A transaction the sequencer waits for.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Blocker {
    pub pid: i32,
    pub database: String,
    pub age_seconds: i64,
    /// `pg_stat_activity.state`: `idle in transaction` is the usual culprit.
    pub state: String,
}

/// Counts the events past the log's tail in sequencing order (only those:
/// an index range, not the whole table).
const UNSEQUENCED_PG: &str = "WITH tail AS (
    SELECT e.transaction_id AS x, e.position AS pos
      FROM event_log l JOIN events e ON e.position = l.event_position
     ORDER BY l.log_position DESC LIMIT 1),
  t AS (SELECT COALESCE((SELECT x FROM tail), '0'::xid8) AS x,
               COALESCE((SELECT pos FROM tail), 0) AS pos)
SELECT CAST(COUNT(*) AS BIGINT) FROM events e, t
 WHERE (e.transaction_id, e.position) > (t.x, t.pos)";
const UNSEQUENCED_SQLITE: &str = "SELECT COUNT(*) FROM events
 WHERE position > (SELECT COALESCE(MAX(event_position), 0) FROM event_log)";

const BLOCKER_PG: &str = "SELECT pid, COALESCE(datname, '') AS database,
       CAST(COALESCE(EXTRACT(EPOCH FROM now() - xact_start), 0) AS BIGINT) AS age_seconds,
       COALESCE(state, '') AS state
  FROM pg_stat_activity
 WHERE backend_xid IS NOT NULL AND datname = current_database() AND pid <> pg_backend_pid()
 ORDER BY age(backend_xid) DESC LIMIT 1";

/// The backlog now.
pub async fn backlog(pool: &Pool) -> Result<Backlog, sqlx::Error> {
    let (count, blocker) = match pool {
        Pool::Postgres(_) => (UNSEQUENCED_PG, Some(BLOCKER_PG)),
        Pool::Sqlite(_) => (UNSEQUENCED_SQLITE, None),
    };
    let unsequenced = pool.number(count, vec![]).await?;
    let blocker = match blocker {
        Some(sql) if unsequenced > 0 => pool.fetch::<Blocker>(sql, vec![]).await?.pop(),
        _ => None,
    };
    Ok(Backlog {
        unsequenced,
        blocker,
    })
}
