-- Issue #14: the open clocks are paged in their listing order (nearest
-- deadline first, paused ones last): this index holds exactly the running
-- and paused clocks in that order, so a page reads its rows from it
-- instead of sorting every open clock (projections/src/sla/reports.rs).
CREATE INDEX sla_clocks_open_order ON sla_clocks
    ((COALESCE(deadline_at, '9999')), ticket_id, clock, cycle)
    WHERE state IN ('running', 'paused');
