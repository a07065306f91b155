-- Where each relay (ticketd relay) last said it stood: the log position up
-- to which its broker acknowledged every event. The broker's own stream is
-- where a relay resumes; this row is what operators watch (lag).
CREATE TABLE relay_checkpoints (
    relay    TEXT   PRIMARY KEY,
    position BIGINT NOT NULL
);
