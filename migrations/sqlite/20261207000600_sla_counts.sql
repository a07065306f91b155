-- Issue #14: the KPI counts kept as roll-ups by the SLA projection
-- (projections/src/sla/counts.rs), so the KPI figures read one row per
-- day and group instead of every clock and revisit. Days ("YYYY-MM-DD")
-- are dates in the default calendar's zone; "tickets" counts the tickets
-- adding to a row.
CREATE TABLE sla_on_time_counts (
    clock        text NOT NULL,
    outcome_on   text NOT NULL,
    outcome_week text NOT NULL,
    technician   text NOT NULL,
    region       text NOT NULL,
    tickets      integer NOT NULL,
    met          integer NOT NULL,
    clocks       integer NOT NULL,
    PRIMARY KEY (clock, outcome_on, outcome_week, technician, region)
);

CREATE TABLE sla_revisit_counts (
    revisited_on text NOT NULL,
    week         text NOT NULL,
    technician   text NOT NULL,
    region       text NOT NULL,
    tickets      integer NOT NULL,
    resolved     integer NOT NULL,
    satisfied    integer NOT NULL,
    revisits     integer NOT NULL,
    PRIMARY KEY (revisited_on, week, technician, region)
);

-- Fill them by running the SLA projection again from the first event with
-- no kept state (each ticket's rows are replaced as its events arrive, and
-- its counts move from nothing to what it adds).
DELETE FROM sla_state;
DELETE FROM projection_checkpoints WHERE projection = 'sla';
