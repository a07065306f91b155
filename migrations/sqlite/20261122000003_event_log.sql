-- The global log. SQLite has one writer at a time, so the position given
-- inside the writing transaction is already commit order: the trigger
-- appends every event to the log as it is inserted.
CREATE TABLE event_log
(
    log_position   integer PRIMARY KEY CHECK (log_position > 0),
    event_position integer NOT NULL UNIQUE REFERENCES events (position)
) STRICT;

INSERT INTO event_log (log_position, event_position)
SELECT position, position FROM events WHERE position IS NOT NULL;

DROP TRIGGER events_assign_position;

CREATE TRIGGER events_assign_position
    AFTER INSERT ON events
BEGIN
    UPDATE events
    SET position = (SELECT COALESCE(MAX(position), 0) + 1 FROM events)
    WHERE rowid = NEW.rowid;
    INSERT INTO event_log (log_position, event_position)
    SELECT position, position FROM events WHERE rowid = NEW.rowid;
END;

DELETE FROM projection_checkpoints;
DELETE FROM ticket_summary;
