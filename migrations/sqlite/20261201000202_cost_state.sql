-- Issue #14: the cost ledger keeps each ticket's costing (facts so far and
-- costs before their bearers are known; projections/src/cost/store.rs)
-- instead of re-reading the ticket's history per batch.
CREATE TABLE cost_state (
    kind      text NOT NULL,
    stream_id text NOT NULL,
    state     text NOT NULL,
    PRIMARY KEY (stream_id, kind)
);

-- The rows so far were written without kept state: start over from the
-- first event (each ticket's rows are replaced as its events arrive).
DELETE FROM projection_checkpoints WHERE projection = 'cost_ledger';
