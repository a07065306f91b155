-- Issue #14: the SLA read model keeps each ticket's state (its clocks so far
-- and the alerts already logged; projections/src/sla/store.rs) instead of
-- re-reading the ticket's history per batch.
CREATE TABLE sla_state (
    kind      text NOT NULL,
    stream_id text NOT NULL,
    state     text NOT NULL,
    PRIMARY KEY (stream_id, kind)
);

-- The rows so far were written without kept state: start over from the
-- first event (each ticket's rows are replaced as its events arrive).
DELETE FROM projection_checkpoints WHERE projection = 'sla';
