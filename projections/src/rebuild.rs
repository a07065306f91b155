//! Rebuilding a read model from position 0 while writes continue.
//!
//! 1. Fill shadow tables (`<table>_rebuild`) from the log, batch by batch,
//!    beside the live ones; the live runner and readers carry on.
//! 2. In one transaction: lock the live checkpoint (the live runner waits),
//!    apply to the shadow whatever arrived since, swap the tables, move the
//!    live checkpoint to the shadow's. Readers see the old tables until the
//!    commit and the new ones after.

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::cost::store::{apply_after_postgres, apply_after_sqlite, CostTarget};
use crate::cost::COST_LEDGER;
use crate::fracas::store::FracasTarget;
use crate::fracas::FRACAS;
use crate::sla::store::SlaTarget;
use crate::sla::{SlaConfig, SLA};
use crate::ticket_summary::{Target, SECONDARY_INDEXES};
use crate::{postgres, sqlite, ProjectionError, TICKET_SUMMARY};
use domain::LocalTime;

/// Projections `rebuild` knows.
pub const PROJECTIONS: &[&str] = &[TICKET_SUMMARY, COST_LEDGER, FRACAS, SLA];

const CHUNK: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events read from the log.
    pub events: u64,
    /// The position the new tables are at.
    pub position: i64,
}

/// A read-model table: its primary key and its secondary indexes, as the
/// migrations create them (a swap recreates them under the same names).
struct TableSpec {
    name: &'static str,
    primary_key: &'static str,
    indexes: &'static [(&'static str, &'static str)],
}

const SUMMARY: &[TableSpec] = &[TableSpec {
    name: "ticket_summary",
    primary_key: "ticket_id",
    indexes: SECONDARY_INDEXES,
}];

const COST: &[TableSpec] = &[
    TableSpec {
        name: "cost_lines",
        primary_key: "ticket_id, line_no",
        indexes: &[
            ("cost_lines_month", "(occurred_month)"),
            ("cost_lines_model", "(product_model, sale_month)"),
            ("cost_lines_bearer", "(bearer)"),
            ("cost_lines_part", "(part_number)"),
        ],
    },
    TableSpec {
        name: "cost_tickets",
        primary_key: "ticket_id",
        indexes: &[],
    },
    TableSpec {
        name: "cost_quoted",
        primary_key: "ticket_id, kind",
        indexes: &[],
    },
];

const FRACAS_TABLES: &[TableSpec] = &[
    TableSpec {
        name: "fracas_failures",
        primary_key: "ticket_id, record_no",
        indexes: &[
            ("fracas_failures_model", "(product_model, failed_on)"),
            ("fracas_failures_serial", "(serial, failure_mode)"),
            ("fracas_failures_mode", "(failure_mode, failed_on)"),
        ],
    },
    TableSpec {
        name: "fracas_failure_parts",
        primary_key: "ticket_id, record_no, part_number",
        indexes: &[("fracas_failure_parts_part", "(part_number)")],
    },
    TableSpec {
        name: "fracas_units",
        primary_key: "ticket_id",
        indexes: &[("fracas_units_serial", "(serial)")],
    },
    TableSpec {
        name: "fracas_actions",
        primary_key: "action_id",
        indexes: &[],
    },
    TableSpec {
        name: "fracas_action_scope",
        primary_key: "action_id, kind, value",
        indexes: &[],
    },
    TableSpec {
        name: "fracas_action_plan",
        primary_key: "action_id, discipline",
        indexes: &[("fracas_action_plan_due", "(done, due_on)")],
    },
    TableSpec {
        name: "fracas_action_links",
        primary_key: "action_id, ticket_id",
        indexes: &[("fracas_action_links_ticket", "(ticket_id)")],
    },
];

const SLA_TABLES: &[TableSpec] = &[
    TableSpec {
        name: "sla_clocks",
        primary_key: "ticket_id, clock, cycle",
        indexes: &[
            ("sla_clocks_open", "(state, deadline_at)"),
            ("sla_clocks_outcome", "(clock, outcome_at)"),
        ],
    },
    TableSpec {
        name: "sla_revisits",
        primary_key: "ticket_id, n",
        indexes: &[("sla_revisits_at", "(revisited_at)")],
    },
];

/// The tables and checkpoints of a projection: (tables, live, shadow).
fn plan(projection: &str) -> Option<(&'static [TableSpec], &'static str, &'static str)> {
    match projection {
        TICKET_SUMMARY => Some((SUMMARY, TICKET_SUMMARY, "ticket_summary_rebuild")),
        COST_LEDGER => Some((COST, COST_LEDGER, CostTarget::REBUILD.checkpoint)),
        FRACAS => Some((FRACAS_TABLES, FRACAS, FracasTarget::REBUILD_CHECKPOINT)),
        SLA => Some((SLA_TABLES, SLA, SlaTarget::REBUILD.checkpoint)),
        _ => None,
    }
}

fn unknown(projection: &str) -> ProjectionError {
    ProjectionError::Store(sqlx::Error::Configuration(
        format!("unknown projection {projection:?}").into(),
    ))
}

fn swap_statements(tables: &[TableSpec], rename_pkey: bool) -> Vec<String> {
    let mut out = Vec::new();
    for t in tables {
        out.push(format!("DROP TABLE {}", t.name));
        out.push(format!(
            "ALTER TABLE {}_rebuild RENAME TO {}",
            t.name, t.name
        ));
        if rename_pkey {
            out.push(format!(
                "ALTER INDEX {}_rebuild_pkey RENAME TO {}_pkey",
                t.name, t.name
            ));
        }
        for (index, columns) in t.indexes {
            out.push(format!("CREATE INDEX {index} ON {} {columns}", t.name));
        }
    }
    out
}

async fn batch_pg(
    tx: &mut Transaction<'_, Postgres>,
    projection: &str,
    from: i64,
    local: LocalTime,
) -> Result<(usize, i64), ProjectionError> {
    match projection {
        FRACAS => {
            let target = FracasTarget::rebuild(local);
            crate::fracas::store::apply_after_postgres(tx, &target, from, CHUNK).await
        }
        SLA => {
            crate::sla::store::apply_after_postgres(
                tx,
                SlaConfig::current(),
                &SlaTarget::REBUILD,
                from,
                CHUNK,
            )
            .await
        }
        COST_LEDGER => apply_after_postgres(tx, &CostTarget::REBUILD, from, CHUNK).await,
        _ => postgres::apply_after(tx, &Target::rebuild(), from, CHUNK).await,
    }
}

async fn batch_lite(
    tx: &mut Transaction<'_, Sqlite>,
    projection: &str,
    from: i64,
    local: LocalTime,
) -> Result<(usize, i64), ProjectionError> {
    match projection {
        FRACAS => {
            let target = FracasTarget::rebuild(local);
            crate::fracas::store::apply_after_sqlite(tx, &target, from, CHUNK).await
        }
        SLA => {
            crate::sla::store::apply_after_sqlite(
                tx,
                SlaConfig::current(),
                &SlaTarget::REBUILD,
                from,
                CHUNK,
            )
            .await
        }
        COST_LEDGER => apply_after_sqlite(tx, &CostTarget::REBUILD, from, CHUNK).await,
        _ => sqlite::apply_after(tx, &Target::rebuild(), from, CHUNK).await,
    }
}

/// Rebuilds `projection` on PostgreSQL; `progress(position, head)` after
/// every chunk. `local` dates events where a read model needs days.
pub async fn rebuild_postgres(
    pool: &PgPool,
    projection: &str,
    local: LocalTime,
    mut progress: impl FnMut(i64, i64),
) -> Result<Rebuilt, ProjectionError> {
    let (tables, live, shadow) = plan(projection).ok_or_else(|| unknown(projection))?;
    for t in tables {
        for statement in [
            format!("DROP TABLE IF EXISTS {}_rebuild", t.name),
            format!(
                "CREATE TABLE {0}_rebuild (LIKE {0} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
                t.name
            ),
            format!(
                "ALTER TABLE {}_rebuild ADD PRIMARY KEY ({})",
                t.name, t.primary_key
            ),
        ] {
            sqlx::query(&statement).execute(pool).await?;
        }
    }
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = $1")
        .bind(shadow)
        .execute(pool)
        .await?;
    let mut events = 0_u64;
    loop {
        let mut tx = pool.begin().await?;
        let from = postgres::lock_checkpoint(&mut tx, shadow).await?;
        let (n, at) = batch_pg(&mut tx, projection, from, local).await?;
        tx.commit().await?;
        events += n as u64;
        progress(at, crate::log::head_postgres(pool).await?);
        if n == 0 {
            break;
        }
    }
    let mut tx = pool.begin().await?;
    postgres::lock_checkpoint(&mut tx, live).await?;
    let mut position = postgres::lock_checkpoint(&mut tx, shadow).await?;
    loop {
        let (n, at) = batch_pg(&mut tx, projection, position, local).await?;
        events += n as u64;
        position = at;
        if n == 0 {
            break;
        }
    }
    for statement in swap_statements(tables, true) {
        sqlx::query(&statement).execute(&mut *tx).await?;
    }
    postgres::move_checkpoint(&mut tx, live, position).await?;
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = $1")
        .bind(shadow)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Rebuilt { events, position })
}

/// Rebuilds `projection` on SQLite; `progress(position, head)` after every
/// chunk. `local` dates events where a read model needs days.
pub async fn rebuild_sqlite(
    pool: &SqlitePool,
    projection: &str,
    local: LocalTime,
    mut progress: impl FnMut(i64, i64),
) -> Result<Rebuilt, ProjectionError> {
    let (tables, live, shadow) = plan(projection).ok_or_else(|| unknown(projection))?;
    for t in tables {
        let ddl: String =
            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1")
                .bind(t.name)
                .fetch_one(pool)
                .await?;
        let shadow_ddl = ddl.replacen(t.name, &format!("{}_rebuild", t.name), 1);
        sqlx::query(&format!("DROP TABLE IF EXISTS {}_rebuild", t.name))
            .execute(pool)
            .await?;
        sqlx::query(&shadow_ddl).execute(pool).await?;
    }
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = ?1")
        .bind(shadow)
        .execute(pool)
        .await?;
    let mut events = 0_u64;
    loop {
        let mut tx = pool.begin().await?;
        let from = sqlite::lock_checkpoint(&mut tx, shadow).await?;
        let (n, at) = batch_lite(&mut tx, projection, from, local).await?;
        tx.commit().await?;
        events += n as u64;
        progress(at, crate::log::head_sqlite(pool).await?);
        if n == 0 {
            break;
        }
    }
    let mut tx = pool.begin().await?;
    sqlite::lock_checkpoint(&mut tx, live).await?;
    let mut position = sqlite::lock_checkpoint(&mut tx, shadow).await?;
    loop {
        let (n, at) = batch_lite(&mut tx, projection, position, local).await?;
        events += n as u64;
        position = at;
        if n == 0 {
            break;
        }
    }
    for statement in swap_statements(tables, false) {
        sqlx::query(&statement).execute(&mut *tx).await?;
    }
    sqlite::move_checkpoint(&mut tx, live, position).await?;
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = ?1")
        .bind(shadow)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Rebuilt { events, position })
}
