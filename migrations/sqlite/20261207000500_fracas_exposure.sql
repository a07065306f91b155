-- Issue #14: the exposure MTBF and the failure-rate trend are sums over
-- (projections/src/fracas/population.rs), kept as roll-ups instead of
-- merging every unit and failure per request. Dates are "YYYY-MM-DD".

-- The installed base's dated units per model, batch and in-service day,
-- moved by each registration (reference data, like installed_units).
CREATE TABLE installed_unit_counts (
    product_model text NOT NULL,
    batch         text NOT NULL,
    in_service_on text NOT NULL,
    tickets       integer NOT NULL,
    units         integer NOT NULL,
    PRIMARY KEY (product_model, batch, in_service_on)
);
INSERT INTO installed_unit_counts (product_model, batch, in_service_on, tickets, units)
SELECT product_model, batch, in_service_on, COUNT(*), SUM(quantity)
  FROM installed_units WHERE in_service_on IS NOT NULL
 GROUP BY product_model, batch, in_service_on;

-- Kept by FRACAS: units of serials dated by their tickets ("tickets"
-- counts the serials), per model, batch and in-service day.
CREATE TABLE fracas_population_units (
    product_model text NOT NULL,
    batch         text NOT NULL,
    in_service_on text NOT NULL,
    tickets       integer NOT NULL,
    units         integer NOT NULL,
    PRIMARY KEY (product_model, batch, in_service_on)
);

-- Kept by FRACAS: relevant failures per member model and batch, failure
-- mode, failure day and late start (the member's in-service day when it
-- is after the failure, else '').
CREATE TABLE fracas_population_failures (
    product_model text NOT NULL,
    batch         text NOT NULL,
    failure_mode  text NOT NULL,
    failed_on     text NOT NULL,
    late_start    text NOT NULL,
    tickets       integer NOT NULL,
    failures      integer NOT NULL,
    PRIMARY KEY (product_model, batch, failure_mode, failed_on, late_start)
);

-- Kept by FRACAS: what each serial adds to the two tables above (JSON).
CREATE TABLE fracas_serials (
    serial       text PRIMARY KEY,
    contribution text NOT NULL
);

-- Fill them by running FRACAS again from the first event over empty tables.
DELETE FROM fracas_failure_parts;
DELETE FROM fracas_failures;
DELETE FROM fracas_units;
DELETE FROM fracas_action_scope;
DELETE FROM fracas_action_plan;
DELETE FROM fracas_action_links;
DELETE FROM fracas_actions;
DELETE FROM fracas_mode_counts;
DELETE FROM fracas_part_counts;
DELETE FROM fracas_serial_mode_counts;
DELETE FROM fracas_state;
DELETE FROM projection_checkpoints WHERE projection = 'fracas';
