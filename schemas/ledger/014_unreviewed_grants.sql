-- Four eyes over a day, not per grant (services/ledger/grants.cpp). Each staff grant that posts
-- without review is written here, under a lock on its requester, before it reaches the writer:
-- what one staff member granted in the last 24 hours, to one member and in all, decides whether
-- the next grant waits for a second pair of eyes. Without it, three grants of 300 minutes went
-- where a single one of 301 would have waited.
CREATE TABLE unreviewed_grants (
  id text PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 64),  -- the grant's transfer id
  community_id uuid NOT NULL,
  requested_by uuid NOT NULL,
  to_account_id text NOT NULL,
  amount_minutes bigint NOT NULL CHECK (amount_minutes > 0),
  at_us bigint NOT NULL
);
-- A staff member's last day of grants.
CREATE INDEX unreviewed_grants_by_requester ON unreviewed_grants (community_id, requested_by, at_us);
