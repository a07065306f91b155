-- FRACAS (projections/src/fracas): failure reports and signals per ticket,
-- the units seen in tickets, and the corrective actions' state, rebuilt per
-- ticket (or action) whenever one of its events arrives. Dates are
-- "YYYY-MM-DD" (local business date), times RFC 3339 UTC text, flags 0/1,
-- so both stores share the queries.
CREATE TABLE fracas_failures
(
    ticket_id              text    NOT NULL,
    record_no              integer NOT NULL,
    -- diagnosis, qc_failed, reopened
    signal                 text    NOT NULL,
    occurred_at            text    NOT NULL,
    failed_on              text    NOT NULL,
    product_model          text    NOT NULL,
    serial                 text    NOT NULL,
    batch                  text,
    failure_mode           text    NOT NULL,
    symptom                text    NOT NULL,
    -- Part numbers separated by commas (a part number has none).
    failed_parts           text    NOT NULL,
    root_cause             text,
    responsible_department text,
    -- Days from the in-service date (installed, else purchased) to failed_on.
    operating_days         integer,
    no_fault_found         integer NOT NULL,
    misuse                 integer NOT NULL,
    -- A diagnosis that is neither no-fault-found nor misuse.
    relevant               integer NOT NULL,
    cycle                  integer NOT NULL,
    PRIMARY KEY (ticket_id, record_no)
) STRICT;

CREATE INDEX fracas_failures_model ON fracas_failures (product_model, failed_on);
CREATE INDEX fracas_failures_serial ON fracas_failures (serial, failure_mode);
CREATE INDEX fracas_failures_mode ON fracas_failures (failure_mode, failed_on);

CREATE TABLE fracas_failure_parts
(
    ticket_id   text    NOT NULL,
    record_no   integer NOT NULL,
    part_number text    NOT NULL,
    PRIMARY KEY (ticket_id, record_no, part_number)
) STRICT;

CREATE INDEX fracas_failure_parts_part ON fracas_failure_parts (part_number);

CREATE TABLE fracas_units
(
    ticket_id     text PRIMARY KEY,
    product_model text NOT NULL,
    serial        text NOT NULL,
    batch         text,
    in_service_on text,
    received_on   text NOT NULL
) STRICT;

CREATE INDEX fracas_units_serial ON fracas_units (serial);

CREATE TABLE fracas_actions
(
    action_id                text PRIMARY KEY,
    title                    text    NOT NULL,
    status                   text    NOT NULL,
    verification_window_days integer NOT NULL,
    root_cause               text,
    implemented_on           text,
    window_to                text,
    opened_at                text    NOT NULL,
    opened_by                text    NOT NULL,
    closed_at                text,
    closed_by                text,
    version                  integer  NOT NULL
) STRICT;

-- The failure modes (kind 'mode') and models (kind 'model') an action covers.
CREATE TABLE fracas_action_scope
(
    action_id text NOT NULL,
    kind      text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (action_id, kind, value)
) STRICT;
