-- Issue #14: the listings are keyset-paged in their order (oldest first),
-- so a page reads its rows from an index instead of sorting every row.
CREATE INDEX cost_lines_listing ON cost_lines (occurred_at, ticket_id, line_no);
CREATE INDEX fracas_failures_listing ON fracas_failures (occurred_at, record_no, ticket_id);
