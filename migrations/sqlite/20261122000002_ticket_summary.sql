-- Read model behind ListTickets, kept by the ticket_summary projection.
-- Times are RFC 3339 UTC text with microseconds, so they sort as strings.
CREATE TABLE ticket_summary
(
    ticket_id      text PRIMARY KEY,
    version        integer NOT NULL,
    status         text    NOT NULL,
    kind           text    NOT NULL,
    priority       text    NOT NULL,
    customer_name  text    NOT NULL,
    customer_phone text    NOT NULL,
    serial_number  text    NOT NULL,
    product_model  text    NOT NULL,
    technician     text,
    received_at    text    NOT NULL,
    updated_at     text    NOT NULL
) STRICT;

CREATE INDEX ticket_summary_received ON ticket_summary (received_at DESC, ticket_id DESC);
CREATE INDEX ticket_summary_status ON ticket_summary (status);
CREATE INDEX ticket_summary_serial ON ticket_summary (serial_number);
CREATE INDEX ticket_summary_model ON ticket_summary (product_model);
CREATE INDEX ticket_summary_technician ON ticket_summary (technician);
CREATE INDEX ticket_summary_phone ON ticket_summary (customer_phone);

CREATE TABLE projection_checkpoints
(
    projection text PRIMARY KEY,
    position   integer NOT NULL,
    updated_at text    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
