-- Issue #14: the warranty roll-up the cost ledger keeps (projections/src/
-- cost/store.rs): company-borne cost per basis ("sale": month of the sale,
-- '' when unknown; "repair": month of the cost), product model, month,
-- region and currency, with how many tickets contribute. The warranty
-- reports read it instead of scanning every ledger line.
CREATE TABLE cost_warranty (
    basis         text   NOT NULL,
    product_model text   NOT NULL,
    month         text   NOT NULL,
    region        text   NOT NULL,
    currency      text   NOT NULL,
    tickets       bigint NOT NULL,
    amount_minor  bigint NOT NULL,
    PRIMARY KEY (basis, product_model, month, region, currency)
);

-- Fill it by running the ledger again from the first event, from empty
-- kept state (each ticket's rows are replaced as its events arrive).
DELETE FROM cost_state;
DELETE FROM projection_checkpoints WHERE projection = 'cost_ledger';
