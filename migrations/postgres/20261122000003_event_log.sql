-- The global log: a gap-free, strictly increasing position per event, in
-- an order no reader can be overtaken in. `events.position` is taken at
-- INSERT and transactions commit in any order, so the sequencer (one at a
-- time, under an advisory lock) appends here only events whose transaction
-- is older than every running one; see ARCHITECTURE.md.
CREATE TABLE event_log
(
    log_position   bigint PRIMARY KEY CHECK (log_position > 0),
    event_position bigint NOT NULL UNIQUE REFERENCES events (position)
);

-- Projections now follow log_position: start them over from the log.
ALTER TABLE projection_checkpoints DROP COLUMN transaction_id;
DELETE FROM projection_checkpoints;
TRUNCATE ticket_summary;
