-- Issue #14: the quote-versus-actual roll-up the cost ledger keeps
-- (projections/src/cost/rollup.rs): quoted and actual amounts per line kind
-- and currency, by the ticket's month of receipt, product model and region,
-- with how many tickets contribute. The report reads it instead of joining
-- every quote row and ledger line.
CREATE TABLE cost_quote_actual (
    first_month   text   NOT NULL,
    product_model text   NOT NULL,
    region        text   NOT NULL,
    kind          text   NOT NULL,
    currency      text   NOT NULL,
    tickets       integer NOT NULL,
    quoted_minor  integer NOT NULL,
    actual_minor  integer NOT NULL,
    PRIMARY KEY (first_month, product_model, region, kind, currency)
);

-- Run the ledger again from the first event over empty tables: every
-- roll-up is refilled from scratch (adding to the old rows would count
-- each ticket twice), and tickets recorded before the ledger kept the
-- customer's region get it.
DELETE FROM cost_lines;
DELETE FROM cost_quoted;
DELETE FROM cost_tickets;
DELETE FROM cost_warranty;
DELETE FROM cost_parts;
DELETE FROM cost_state;
DELETE FROM projection_checkpoints WHERE projection = 'cost_ledger';
