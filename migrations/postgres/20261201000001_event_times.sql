-- Two times on every event, both sealed (seal format 2, see
-- projections/src/seal.rs and projections/src/append.rs): `occurred_at`
-- (business time, stated by the command or now) and `recorded_at` (when
-- ticketd stored it, from ticketd's own clock, not the database server's).
-- ticketd writes the event id and both times itself; no column a reader
-- uses is left to a database default.
ALTER TABLE events ADD COLUMN occurred_at timestamptz;
ALTER TABLE events ADD COLUMN seal smallint NOT NULL DEFAULT 1;

-- Events stored before this (format 1) sealed their time only as the
-- metadata's `recorded_at`: the columns now carry that sealed value, and
-- the audit checks them against it.
UPDATE events
   SET recorded_at = (metadata ->> 'recorded_at')::timestamptz
 WHERE metadata ? 'recorded_at';
UPDATE events SET occurred_at = recorded_at;

ALTER TABLE events ALTER COLUMN occurred_at SET NOT NULL;
ALTER TABLE events ALTER COLUMN recorded_at DROP DEFAULT;
ALTER TABLE events ALTER COLUMN event_id DROP DEFAULT;

-- Business-time reads (state as of an instant, reports by date).
CREATE INDEX events_occurred_at ON events (occurred_at);
