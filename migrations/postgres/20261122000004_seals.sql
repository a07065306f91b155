-- Tamper evidence (see projections/src/seal.rs): each event's hash chains it
-- to the previous event of its ticket, written in the same transaction as
-- the event; each log entry's digest chains it to the previous entry.
ALTER TABLE events ADD COLUMN hash text;
ALTER TABLE event_log ADD COLUMN digest text;
