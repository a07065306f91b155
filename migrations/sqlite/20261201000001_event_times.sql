-- Two times on every event, both sealed (seal format 2, see
-- projections/src/seal.rs and projections/src/append.rs): `occurred_at`
-- (business time, stated by the command or now) and `recorded_at` (when
-- ticketd stored it, from ticketd's own clock). Both are RFC 3339 text with
-- microseconds and `Z`, so text order is time order. ticketd writes the
-- event id and both times itself; the old defaults are never used.
ALTER TABLE events ADD COLUMN occurred_at text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN seal integer NOT NULL DEFAULT 1;

-- Events stored before this (format 1) sealed their time only as the
-- metadata's `recorded_at`: the columns now carry that sealed value, and
-- the audit checks them against it.
UPDATE events
   SET recorded_at = json_extract(metadata, '$.recorded_at')
 WHERE json_extract(metadata, '$.recorded_at') IS NOT NULL;
UPDATE events SET occurred_at = recorded_at;

CREATE INDEX events_occurred_at ON events (occurred_at);
