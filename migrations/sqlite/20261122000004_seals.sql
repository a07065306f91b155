-- Tamper evidence (see projections/src/seal.rs): each event's hash chains it
-- to the previous event of its ticket, written in the same transaction as
-- the event; each log entry's digest chains it to the previous entry. The
-- log is now extended by the sequencer in ticketd (which computes the
-- digests), as on PostgreSQL; the trigger only numbers events.
ALTER TABLE events ADD COLUMN hash text;
ALTER TABLE event_log ADD COLUMN digest text;

DROP TRIGGER events_assign_position;

CREATE TRIGGER events_assign_position
    AFTER INSERT ON events
BEGIN
    UPDATE events
    SET position = (SELECT COALESCE(MAX(position), 0) + 1 FROM events)
    WHERE rowid = NEW.rowid;
END;
