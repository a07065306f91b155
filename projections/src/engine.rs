//! One projection engine: the [`Projection`] trait, the one [`REGISTRY`]
//! of read models, and the one driver that runs any of them on either
//! store — begin, lock the checkpoint, read the log, apply, move the
//! checkpoint, commit ([`batch`], [`apply_after`]).
//!
//! Invariant: a read model's rows and its checkpoint change in the same
//! transaction ([`apply_after`] is the only place that moves a
//! checkpoint past events), so after any crash each event's effect is
//! applied exactly once.
//!
//! Adding a read model: one module that implements [`Projection`] (its
//! event handling matches every event type, no wildcard arm) and one line
//! in [`REGISTRY`]; its tables in a migration for each store.

use async_trait::async_trait;
use domain::LocalTime;

use crate::db::{Pool, Tx};
use crate::log::recent::Recent;
use crate::log::RawEvent;
use crate::sla::SlaConfig;
use crate::ProjectionError;

/// A read model built from the log.
#[async_trait]
pub trait Projection: Send + Sync {
    /// Its name: the checkpoint it keeps and what `ticketd rebuild` takes.
    fn name(&self) -> &'static str;

    /// Its tables, as the migrations create them. A rebuild fills a
    /// shadow of each and swaps them all in at once.
    fn tables(&self) -> &'static [&'static str];

    /// What `batch` (consecutive log events, in log order) does to the rows
    /// of `at`, inside `tx`. It must not move the checkpoint: the driver does.
    async fn apply(
        &self,
        tx: &mut Tx,
        at: &Target,
        batch: &[RawEvent],
        cx: &Context,
    ) -> Result<(), ProjectionError>;
}

/// Every read model, in the order the runners start them.
pub const REGISTRY: &[&dyn Projection] = &[
    &crate::ticket_summary::TicketSummary,
    &crate::cost::CostLedger,
    &crate::fracas::Fracas,
    &crate::sla::Sla,
];

/// A projection name no read model has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown projection {name:?}; known: {known}")]
pub struct UnknownProjection {
    pub name: String,
    pub known: String,
}

/// The read model called `name`.
pub fn find(name: &str) -> Result<&'static dyn Projection, UnknownProjection> {
    REGISTRY
        .iter()
        .copied()
        .find(|p| p.name() == name)
        .ok_or_else(|| UnknownProjection {
            name: name.to_owned(),
            known: names().join(", "),
        })
}

/// The names of every read model.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|p| p.name()).collect()
}

/// What the read models compute with beyond the log: the policy's UTC
/// offset (what "the day" of an event is) and the SLA configuration.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub local: LocalTime,
    pub sla: &'static SlaConfig,
}

impl Context {
    pub fn new(local: LocalTime, sla: &'static SlaConfig) -> Self {
        Self { local, sla }
    }
}

/// Where a projection writes: its live tables, or the shadow tables a
/// rebuild fills beside them. Names come from code, never from input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub checkpoint: String,
    suffix: &'static str,
}

impl Target {
    const SHADOW: &'static str = "_rebuild";

    /// The tables readers read.
    pub fn live(p: &dyn Projection) -> Self {
        Self {
            checkpoint: p.name().to_owned(),
            suffix: "",
        }
    }

    /// The shadow tables (and checkpoint) a rebuild fills.
    pub fn shadow(p: &dyn Projection) -> Self {
        Self {
            checkpoint: format!("{}{}", p.name(), Self::SHADOW),
            suffix: Self::SHADOW,
        }
    }

    /// The name `table` has at this target.
    pub fn table(&self, table: &str) -> String {
        format!("{table}{}", self.suffix)
    }
}

/// Applies the next batch of at most `limit` log events to `p` at `at`,
/// rows and checkpoint in one transaction. Returns how many were applied.
pub async fn batch(
    pool: &Pool,
    p: &dyn Projection,
    at: &Target,
    cx: &Context,
    limit: i64,
    shared: Option<&Recent>,
) -> Result<usize, ProjectionError> {
    // A cheap look without locks first: an idle runner writes nothing.
    if !pool.behind(&at.checkpoint).await? {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let from = tx.lock_checkpoint(&at.checkpoint).await?;
    let (applied, _) = apply_after(&mut tx, p, at, cx, from, limit, shared).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies up to `limit` events after `from` to `p` at `at` inside `tx`
/// and moves the checkpoint. Returns how many, and the new position.
/// With `shared`, the log is read through the window the process's
/// runners share (see [`Recent`]).
pub async fn apply_after(
    tx: &mut Tx,
    p: &dyn Projection,
    at: &Target,
    cx: &Context,
    from: i64,
    limit: i64,
    shared: Option<&Recent>,
) -> Result<(usize, i64), ProjectionError> {
    let events = match shared {
        Some(recent) => recent.read(tx, &at.checkpoint, from, limit).await?,
        None => tx.read(from, limit).await?,
    };
    let Some(last) = events.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    p.apply(tx, at, &events, cx).await?;
    tx.move_checkpoint(&at.checkpoint, last).await?;
    Ok((events.len(), last))
}
