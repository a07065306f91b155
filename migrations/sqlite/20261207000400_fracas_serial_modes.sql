-- Issue #14: relevant failures per serial and failure mode, kept by FRACAS
-- (projections/src/fracas/counts.rs), so the repeat-failure report reads
-- only the serials and modes with more than one instead of grouping every
-- failure. The partial index holds just those.
CREATE TABLE fracas_serial_mode_counts (
    serial       text NOT NULL,
    failure_mode text NOT NULL,
    tickets      integer NOT NULL,
    relevant     integer NOT NULL,
    PRIMARY KEY (serial, failure_mode)
);
CREATE INDEX fracas_serial_mode_repeats ON fracas_serial_mode_counts (serial, failure_mode)
    WHERE relevant > 1;

-- Fill it by running FRACAS again from the first event over empty tables.
DELETE FROM fracas_failure_parts;
DELETE FROM fracas_failures;
DELETE FROM fracas_units;
DELETE FROM fracas_action_scope;
DELETE FROM fracas_action_plan;
DELETE FROM fracas_action_links;
DELETE FROM fracas_actions;
DELETE FROM fracas_mode_counts;
DELETE FROM fracas_part_counts;
DELETE FROM fracas_state;
DELETE FROM projection_checkpoints WHERE projection = 'fracas';
