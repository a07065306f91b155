-- The installed base (issue #19): units sold or shipped, the population of
-- the MTBF, failure-rate and Weibull figures (docs/FRACAS.md). Reference
-- data registered through Fracas.RegisterUnits or `ticketd import-units`,
-- not derived from the event log, so a rebuild of `fracas` leaves it alone.
-- A serialised unit is keyed "S:<serial>"; an unserialised lot
-- "L:<model>|<batch>|<date>|<date_kind>". Registering a key again replaces
-- its row. Dates are "YYYY-MM-DD", times RFC 3339 UTC text.
CREATE TABLE installed_units
(
    unit_key      text PRIMARY KEY,
    product_model text    NOT NULL,
    -- "" when no batch is recorded.
    batch         text    NOT NULL,
    serial        text,
    quantity      integer NOT NULL CHECK (quantity > 0),
    -- The sale or ship date: the start of its operating time.
    in_service_on text,
    -- sold, shipped
    date_kind     text    NOT NULL,
    registered_at text    NOT NULL
);

CREATE UNIQUE INDEX installed_units_serial ON installed_units (serial);
CREATE INDEX installed_units_model ON installed_units (product_model, batch);
