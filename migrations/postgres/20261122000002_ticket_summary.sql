-- Read model behind ListTickets, kept by the ticket_summary projection.
CREATE TABLE ticket_summary
(
    ticket_id      text PRIMARY KEY,
    version        bigint      NOT NULL,
    status         text        NOT NULL,
    kind           text        NOT NULL,
    priority       text        NOT NULL,
    customer_name  text        NOT NULL,
    customer_phone text        NOT NULL,
    serial_number  text        NOT NULL,
    product_model  text        NOT NULL,
    technician     text,
    received_at    timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE INDEX ticket_summary_received ON ticket_summary (received_at DESC, ticket_id DESC);
CREATE INDEX ticket_summary_status ON ticket_summary (status);
CREATE INDEX ticket_summary_serial ON ticket_summary (serial_number);
CREATE INDEX ticket_summary_model ON ticket_summary (product_model);
CREATE INDEX ticket_summary_technician ON ticket_summary (technician);
CREATE INDEX ticket_summary_phone ON ticket_summary (customer_phone);

-- Where each projection has read the log up to, updated in the same
-- transaction as its view rows.
CREATE TABLE projection_checkpoints
(
    projection     text PRIMARY KEY,
    transaction_id xid8   NOT NULL,
    position       bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
