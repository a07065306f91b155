-- One key per customer (issue #18, docs/PRIVACY.md): their personal fields
-- in events are sealed under it. `wrapped` is the key encrypted under the
-- master key (which never enters the database); `lookup` is the HMAC of
-- their phone number's digits under the master key, to find them again.
-- Erasing a customer deletes the row: what was sealed under the key can
-- no longer be opened by anyone.
CREATE TABLE customer_keys (
    customer_id text PRIMARY KEY,
    lookup      text NOT NULL UNIQUE,
    wrapped     text NOT NULL
);
