-- SLA clocks (projections/src/sla): one row per ticket x clock x cycle,
-- recomputed from the ticket's events (and its SlaClock alerts) whenever
-- one of them arrives. Times are RFC 3339 UTC text (sortable, shared SQL);
-- seconds are of the clock's basis (working or calendar time). What depends
-- on "now" (elapsed, at risk, breached) is computed at query time.
CREATE TABLE sla_clocks
(
    ticket_id       text    NOT NULL,
    clock           text    NOT NULL,
    cycle           integer NOT NULL,
    basis           text    NOT NULL,
    target_seconds  bigint  NOT NULL,
    started_at      text    NOT NULL,
    -- running, paused, stopped, cancelled
    state           text    NOT NULL,
    paused_seconds  bigint  NOT NULL,
    paused_since    text,
    elapsed_seconds bigint  NOT NULL,
    stopped_at      text,
    at_risk_at      text,
    deadline_at     text,
    -- 1 met, 0 missed, NULL not stopped
    met             integer,
    -- When the clock's result falls: stopped_at, or the deadline while running.
    outcome_at      text,
    outcome_week    text,
    kind            text    NOT NULL,
    priority        text    NOT NULL,
    region          text    NOT NULL,
    technician      text    NOT NULL,
    -- Whether the watcher's SlaAtRisk / SlaBreached event is in the log.
    risk_noted      integer NOT NULL,
    breach_noted    integer NOT NULL,
    PRIMARY KEY (ticket_id, clock, cycle)
);

CREATE INDEX sla_clocks_open ON sla_clocks (state, deadline_at);
CREATE INDEX sla_clocks_outcome ON sla_clocks (clock, outcome_at);

CREATE TABLE sla_revisits
(
    ticket_id    text    NOT NULL,
    n            integer NOT NULL,
    cycle        integer NOT NULL,
    revisited_at text    NOT NULL,
    week         text    NOT NULL,
    resolved     integer NOT NULL,
    satisfied    integer NOT NULL,
    region       text    NOT NULL,
    technician   text    NOT NULL,
    PRIMARY KEY (ticket_id, n)
);

CREATE INDEX sla_revisits_at ON sla_revisits (revisited_at);
