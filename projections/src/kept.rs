//! Read models that keep a state per stream: a batch loads the kept state
//! of each stream it touches (one query), applies only the batch's new
//! events to it, writes the stream's rows from the new state and keeps the
//! state again, in the batch's transaction. No stream's history is re-read.
//!
//! Invariant: the kept state of a stream is the fold of exactly the events
//! up to the checkpoint (it is written in the same transaction as the
//! checkpoint), so applying a batch to it gives what a fold of the whole
//! history gives (`tests`: random batch splits against one fold).

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::{Tx, Val};
use crate::engine::{Context, Projection, Target};
use crate::log::RawEvent;
use crate::rows::{self, Conflict, Write};
use crate::ProjectionError;

/// The writes that replace one stream's rows.
pub type Statements = Vec<Write>;

/// A read model derived per stream from a kept state. Implementing it
/// makes the type a [`Projection`].
#[async_trait]
pub trait PerStream: Send + Sync {
    /// What is kept of one stream between batches.
    type State: Serialize + DeserializeOwned + Default + Clone + Send;

    /// The projection's name (its checkpoint).
    const NAME: &'static str;
    /// Its row tables, then its state table (a rebuild shadows them all).
    const TABLES: &'static [&'static str];
    /// The table that keeps each stream's state: (kind, stream_id, state).
    const STATE_TABLE: &'static str;

    /// The stream `event` belongs to, as (kind, id), or `None` when this
    /// read model does not follow it.
    fn stream(event: &RawEvent) -> Option<&'static str>;

    /// Applies one event of stream (`kind`, `id`) to its state.
    fn step(
        state: &mut Self::State,
        kind: &str,
        id: &str,
        event: &RawEvent,
        cx: &Context,
    ) -> Result<(), ProjectionError>;

    /// The statements that replace the stream's rows at `at`, now that
    /// its state went from `before` to `state` (a roll-up moves by the
    /// difference).
    fn rows(
        at: &Target,
        kind: &str,
        id: &str,
        before: &Self::State,
        state: &Self::State,
        cx: &Context,
    ) -> Statements;

    /// Keys of rows that depend on more than one stream (FRACAS: serials)
    /// which the change from `before` to `state` affects; [`Self::settle`]
    /// recomputes them once the batch's rows are written. None by default.
    fn shared(_before: &Self::State, _state: &Self::State) -> Vec<String> {
        Vec::new()
    }

    /// Recomputes the rows of `keys` at `at`, inside the batch's
    /// transaction, after its rows are written (so it reads them).
    async fn settle(
        _tx: &mut Tx,
        _at: &Target,
        _keys: BTreeSet<String>,
    ) -> Result<(), ProjectionError> {
        Ok(())
    }
}

#[async_trait]
impl<P: PerStream> Projection for P {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        P::TABLES
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        at: &Target,
        batch: &[RawEvent],
        cx: &Context,
    ) -> Result<(), ProjectionError> {
        let mut order: Vec<(&'static str, &str)> = Vec::new();
        let mut events: HashMap<(&'static str, &str), Vec<&RawEvent>> = HashMap::new();
        for e in batch {
            let Some(kind) = P::stream(e) else { continue };
            let key = (kind, e.ticket_id.as_str());
            events
                .entry(key)
                .or_insert_with(|| {
                    order.push(key);
                    Vec::new()
                })
                .push(e);
        }
        if order.is_empty() {
            return Ok(());
        }
        let table = at.table(P::STATE_TABLE);
        let ids: Vec<String> = order.iter().map(|(_, id)| (*id).to_owned()).collect();
        let mut kept: HashMap<(String, String), String> = tx
            .kept(&table, &ids)
            .await?
            .into_iter()
            .map(|(kind, id, state)| ((kind, id), state))
            .collect();
        // A kept state that does not read back (or write) has no log position.
        let undecodable = |source| ProjectionError::Undecodable {
            position: 0,
            source,
        };
        let mut writes = Vec::new();
        let mut shared = BTreeSet::new();
        for key @ (kind, id) in order {
            let mut state = match kept.remove(&(kind.to_owned(), id.to_owned())) {
                Some(raw) => serde_json::from_str(&raw).map_err(undecodable)?,
                None => P::State::default(),
            };
            let before = state.clone();
            for e in &events[&key] {
                P::step(&mut state, kind, id, e, cx)?;
            }
            writes.extend(P::rows(at, kind, id, &before, &state, cx));
            shared.extend(P::shared(&before, &state));
            let raw = serde_json::to_string(&state).map_err(undecodable)?;
            writes.push(
                Write::row(
                    &table,
                    vec![
                        ("kind", Val::Text(kind.to_owned())),
                        ("stream_id", Val::Text(id.to_owned())),
                        ("state", Val::Text(raw)),
                    ],
                )
                .on_conflict(Conflict::Update {
                    key: "stream_id, kind",
                    columns: &["state"],
                }),
            );
        }
        rows::apply(tx, writes).await?;
        if !shared.is_empty() {
            P::settle(tx, at, shared).await?;
        }
        Ok(())
    }
}

/// Decodes a logged event's payload as `T`, in its current shape.
pub fn decode<T: DeserializeOwned>(event: &RawEvent) -> Result<T, ProjectionError> {
    event.decode_as()
}
