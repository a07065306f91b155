-- ListTickets filtered by one status reads this index in page order
-- (received_at DESC, ticket_id DESC) instead of sorting every match.
DROP INDEX ticket_summary_status;
CREATE INDEX ticket_summary_status ON ticket_summary (status, received_at DESC, ticket_id DESC);
