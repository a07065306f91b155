-- The event store. Columns up to `metadata` are the ones sqlite-es reads and
-- writes; the rest are ours and filled in by defaults and a trigger.
CREATE TABLE events
(
    aggregate_type text                          NOT NULL,
    aggregate_id   text                          NOT NULL,
    sequence       integer CHECK (sequence >= 0) NOT NULL,
    event_type     text                          NOT NULL,
    event_version  text                          NOT NULL,
    payload        text                          NOT NULL,
    metadata       text                          NOT NULL,
    -- Commit order across all streams. SQLite has one writer at a time, so
    -- the order of inserts is the order of commits.
    position       integer,
    event_id       text NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    recorded_at    text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE UNIQUE INDEX events_position ON events (position);
CREATE UNIQUE INDEX events_event_id ON events (event_id);
-- One event per command: a client's request id is unique across the log.
CREATE UNIQUE INDEX events_request_id ON events (json_extract(metadata, '$.request_id'));

CREATE TRIGGER events_assign_position
    AFTER INSERT ON events
BEGIN
    UPDATE events
    SET position = (SELECT COALESCE(MAX(position), 0) + 1 FROM events)
    WHERE rowid = NEW.rowid;
END;

CREATE TABLE snapshots
(
    aggregate_type   text                                  NOT NULL,
    aggregate_id     text                                  NOT NULL,
    last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
    payload          text                                  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;
