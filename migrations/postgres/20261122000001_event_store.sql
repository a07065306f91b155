-- The event store. Columns up to `metadata` are the ones postgres-es reads
-- and writes; the rest are ours and filled in by defaults, so postgres-es's
-- INSERT needs no change.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        jsonb                        NOT NULL,
    metadata       jsonb                        NOT NULL,
    -- Insert order across all streams. Assigned at INSERT, not at COMMIT, so
    -- readers of the log order by (transaction_id, position) and only read
    -- below the oldest running transaction; see ARCHITECTURE.md.
    position       bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid        NOT NULL DEFAULT gen_random_uuid(),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_position ON events (position);
CREATE UNIQUE INDEX events_event_id ON events (event_id);
CREATE INDEX events_log_order ON events (transaction_id, position);
-- Each command writes exactly one event, so a client's request id is unique
-- across the log: a retried request can never be applied twice.
CREATE UNIQUE INDEX events_request_id ON events ((metadata ->> 'request_id'))
    WHERE metadata ? 'request_id';

-- Only used if snapshotting is turned on.
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          jsonb                                NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);
