-- Issue #14: the parts roll-up the cost ledger keeps (projections/src/
-- cost/rollup.rs): parts per part number, month of use, currency, product
-- model, region and bearer, with how many tickets contribute. The
-- parts-by-month report reads it instead of scanning every ledger line.
CREATE TABLE cost_parts (
    part_number   text   NOT NULL,
    month         text   NOT NULL,
    currency      text   NOT NULL,
    product_model text   NOT NULL,
    region        text   NOT NULL,
    bearer        text   NOT NULL,
    tickets       bigint NOT NULL,
    quantity      bigint NOT NULL,
    amount_minor  bigint NOT NULL,
    PRIMARY KEY (part_number, month, currency, product_model, region, bearer)
);

-- Fill it by running the ledger again from the first event, from empty
-- kept state (each ticket's rows are replaced as its events arrive).
DELETE FROM cost_state;
DELETE FROM projection_checkpoints WHERE projection = 'cost_ledger';
