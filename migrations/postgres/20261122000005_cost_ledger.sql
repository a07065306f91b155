-- The cost ledger (projections/src/cost): one row per cost line, rebuilt
-- per ticket whenever one of its events arrives. Times are RFC 3339 UTC text
-- and months "YYYY-MM", so both stores share the report queries.
CREATE TABLE cost_lines
(
    ticket_id      text    NOT NULL,
    line_no        integer NOT NULL,
    cycle          integer NOT NULL,
    kind           text    NOT NULL,
    bearer         text    NOT NULL,
    amount_minor   bigint  NOT NULL CHECK (amount_minor >= 0),
    currency       text    NOT NULL,
    part_number    text,
    quantity       integer,
    occurred_at    text    NOT NULL,
    occurred_month text    NOT NULL,
    product_model  text    NOT NULL,
    sale_month     text,
    region         text    NOT NULL,
    approver       text,
    tier           text,
    PRIMARY KEY (ticket_id, line_no)
);

CREATE INDEX cost_lines_month ON cost_lines (occurred_month);
CREATE INDEX cost_lines_model ON cost_lines (product_model, sale_month);
CREATE INDEX cost_lines_bearer ON cost_lines (bearer);
CREATE INDEX cost_lines_part ON cost_lines (part_number);

CREATE TABLE cost_tickets
(
    ticket_id      text PRIMARY KEY,
    product_model  text    NOT NULL,
    sale_month     text,
    region         text    NOT NULL,
    currency       text,
    invoiced_minor bigint  NOT NULL,
    paid_minor     bigint  NOT NULL,
    first_month    text    NOT NULL,
    -- Set when the ticket's events cannot be costed (e.g. mixed currencies).
    problem        text
);

CREATE TABLE cost_quoted
(
    ticket_id    text   NOT NULL,
    kind         text   NOT NULL,
    amount_minor bigint NOT NULL,
    currency     text   NOT NULL,
    PRIMARY KEY (ticket_id, kind)
);
