-- Issue #14: read models keep a state per stream (projections/src/kept.rs),
-- so that a batch applies only its new events instead of re-reading each
-- touched stream's whole history. A state is JSON text, written in the same
-- transaction as the rows and the checkpoint.
CREATE TABLE fracas_state (
    kind      text NOT NULL,
    stream_id text NOT NULL,
    state     text NOT NULL,
    PRIMARY KEY (stream_id, kind)
);

-- The rows so far were written without kept state: start over from the
-- first event (each stream's rows are replaced as its events arrive).
DELETE FROM projection_checkpoints WHERE projection = 'fracas';
