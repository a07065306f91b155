-- Issue #14: the count roll-ups FRACAS keeps (projections/src/fracas/
-- counts.rs), so the Paretos and the NFF rate read one row per cell instead
-- of every failure record. Each row says how many tickets contribute.

-- Diagnoses, relevant failures and no-fault-found diagnoses per model,
-- batch ('' when none is recorded), failure mode and failure day.
CREATE TABLE fracas_mode_counts (
    product_model  text   NOT NULL,
    batch          text   NOT NULL,
    failure_mode   text   NOT NULL,
    failed_on      text   NOT NULL,
    tickets        bigint NOT NULL,
    diagnoses      bigint NOT NULL,
    relevant       bigint NOT NULL,
    no_fault_found bigint NOT NULL,
    PRIMARY KEY (product_model, batch, failure_mode, failed_on)
);

-- Relevant failures naming a part (each part once per failure) per model,
-- batch, failure mode, failure day and part number.
CREATE TABLE fracas_part_counts (
    product_model text   NOT NULL,
    batch         text   NOT NULL,
    failure_mode  text   NOT NULL,
    failed_on     text   NOT NULL,
    part_number   text   NOT NULL,
    tickets       bigint NOT NULL,
    failures      bigint NOT NULL,
    PRIMARY KEY (product_model, batch, failure_mode, failed_on, part_number)
);

-- Fill them by running FRACAS again from the first event over empty
-- tables (adding to rows already there would count a ticket twice).
DELETE FROM fracas_failure_parts;
DELETE FROM fracas_failures;
DELETE FROM fracas_units;
DELETE FROM fracas_action_scope;
DELETE FROM fracas_action_plan;
DELETE FROM fracas_action_links;
DELETE FROM fracas_actions;
DELETE FROM fracas_state;
DELETE FROM projection_checkpoints WHERE projection = 'fracas';
