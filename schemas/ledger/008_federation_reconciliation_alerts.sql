-- The differences the daily reconciliation of a link with another installation raised to our
-- community's administrators (federation.reconciliation.differed, services/ledger/
-- federation_remote_sender.cpp): one row per link, side, day and set of differences, so that the
-- same differences found again the same day are not raised again. `runs` counts the runs that
-- found them (what a test waits on to see the job went round again).
CREATE TABLE federation_reconciliation_alerts (
  link_id uuid NOT NULL,
  community_id uuid NOT NULL,
  day date NOT NULL,
  fingerprint text NOT NULL,  -- the differences' transfer ids and kinds, sorted
  raised_at timestamptz NOT NULL DEFAULT now(),
  last_found_at timestamptz NOT NULL DEFAULT now(),
  runs bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (link_id, community_id, day, fingerprint)
);
