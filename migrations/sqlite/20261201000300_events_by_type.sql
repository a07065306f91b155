-- Finding a few event types without reading the whole log: the custody
-- list (services/src/custody.rs) reads only the events that move an item
-- into or out of the company's hands, ticket by ticket in stream order.
CREATE INDEX events_by_type ON events (event_type, aggregate_id, sequence);
