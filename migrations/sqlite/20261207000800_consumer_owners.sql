-- Named consumers have owners (docs/SECURITY.md): the actor that made one
-- subscribes under its name, acknowledges and lists it; a service manager
-- may too. A consumer made before owners existed has owner '' and is
-- adopted by the first actor that subscribes to it.
ALTER TABLE consumer_groups ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX consumer_groups_owner ON consumer_groups (owner);
