-- Durable named consumers (EventLog.Subscribe with a consumer_name).
-- claimed_through: every log position up to here is leased, acknowledged
-- or did not match the consumer's filter. acked_through: every position up
-- to here is acknowledged (or did not match): where a restart resumes.
CREATE TABLE consumer_groups (
    name            TEXT   PRIMARY KEY,
    filter          TEXT   NOT NULL,
    ack_timeout_ms  BIGINT NOT NULL,
    claimed_through BIGINT NOT NULL,
    acked_through   BIGINT NOT NULL
);

-- Events delivered to a member stream and not acknowledged yet. A lease
-- whose deadline passed (or whose stream ended: deadline 0) is delivered
-- again.
CREATE TABLE consumer_leases (
    name        TEXT   NOT NULL REFERENCES consumer_groups (name),
    position    BIGINT NOT NULL,
    member      TEXT   NOT NULL,
    deadline_ms BIGINT NOT NULL,
    deliveries  INTEGER NOT NULL,
    PRIMARY KEY (name, position)
);
CREATE INDEX consumer_leases_member ON consumer_leases (name, member);
