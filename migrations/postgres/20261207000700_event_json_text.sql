-- An event's payload and metadata are kept as `json`, the text ticketd
-- wrote (checked to be JSON, not taken apart), instead of `jsonb`. Every
-- reader takes them as text: the projections decode them in Rust, the
-- subscribers and the relay hand them on. Rendering `jsonb` back to text
-- was the largest single cost of reading the log on the server (about
-- 3.8 µs per event, docs/BENCHMARKS.md), and building it on insert cost
-- the writers as much. The seal covers the canonical form of the JSON
-- (projections/src/log/seal.rs), which this does not change, so every
-- stored hash still verifies.
--
-- Rewrites the table: on a large log, run it in a maintenance window.
DROP INDEX events_request_id;
ALTER TABLE events ALTER COLUMN payload TYPE json USING payload::json,
                   ALTER COLUMN metadata TYPE json USING metadata::json;
-- A client's request id is unique across the log (a retried request is
-- never applied twice); an event without one is not in the index.
CREATE UNIQUE INDEX events_request_id ON events ((metadata ->> 'request_id'))
    WHERE (metadata ->> 'request_id') IS NOT NULL;
