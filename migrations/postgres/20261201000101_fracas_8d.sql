-- The 8D of corrective actions (issue #19), rebuilt with the rest of the
-- fracas projection whenever an action's event arrives: each planned
-- discipline with its owner, due date and whether it is done, and the
-- tickets (failure reports) an action covers.
CREATE TABLE fracas_action_plan
(
    action_id  text    NOT NULL,
    -- d1_team ... d8_closure
    discipline text    NOT NULL,
    owner      text    NOT NULL,
    due_on     text    NOT NULL,
    done       integer NOT NULL,
    PRIMARY KEY (action_id, discipline)
);

CREATE INDEX fracas_action_plan_due ON fracas_action_plan (done, due_on);

CREATE TABLE fracas_action_links
(
    action_id text NOT NULL,
    ticket_id text NOT NULL,
    PRIMARY KEY (action_id, ticket_id)
);

CREATE INDEX fracas_action_links_ticket ON fracas_action_links (ticket_id);
