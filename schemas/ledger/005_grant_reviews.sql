-- Four eyes on large grants (services/ledger/grants.cpp). A staff grant from the community's
-- account above the policy's grant_review_minutes moves nothing at first: it waits here until a
-- second staff member of one of the requester's sites, or an administrator, approves it. The id
-- is the client's transfer id, and the approved grant is created under it, so a replay of the
-- request finds either the review or, once approved, the transfer.
CREATE TABLE grant_reviews (
  id text PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 64),
  community_id uuid NOT NULL,
  -- The request as the transfer will carry it (from the community's account, kind manual).
  to_account_id text NOT NULL,
  amount_minutes bigint NOT NULL CHECK (amount_minutes > 0),
  pending boolean NOT NULL,
  timeout_s bigint NOT NULL DEFAULT 0 CHECK (timeout_s >= 0),
  memo text NOT NULL DEFAULT '',
  ref text NOT NULL DEFAULT '',
  requested_by uuid NOT NULL,
  -- The requester's staff sites when they asked: a second pair of eyes comes from one of them.
  requested_site_ids text[] NOT NULL DEFAULT '{}',
  requested_at_us bigint NOT NULL,
  state text NOT NULL DEFAULT 'awaiting_review' CHECK (state IN ('awaiting_review', 'approved')),
  approved_by uuid,
  approved_at_us bigint,
  CHECK ((state = 'approved') = (approved_by IS NOT NULL))
);
-- The desk's list: a community's grants in one state, oldest first.
CREATE INDEX grant_reviews_by_state ON grant_reviews (community_id, state, requested_at_us, id);
