-- docs/PRIVACY.md: the summary keeps each ticket's customer id, and its
-- customer_name / customer_phone columns hold the fields as the events
-- store them (JSON: sealed under the customer's key), opened when a
-- query answers. Search by customer goes through the id (a phone number
-- finds it by its keyed lookup), never through the sealed text.
ALTER TABLE ticket_summary ADD COLUMN customer_id text;
CREATE INDEX ticket_summary_customer ON ticket_summary (customer_id);
DROP INDEX ticket_summary_phone;
