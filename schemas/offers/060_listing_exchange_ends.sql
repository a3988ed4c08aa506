-- The exchanges that ended (cancelled, declined, expired, completed, resolved) for each listing
-- they could reserve (issue 21). A consumer may read an exchange's end before its own accept (a
-- dead consumer's entries claimed late, a failed event retried, the outbox republished after a
-- Redis restart): releasing a listing not yet reserved changes nothing, and without this memory
-- the late accept would reserve the listing for an exchange that is over, forever. Written and
-- read under the listing's row lock (services/offers/consumers.cpp). Shared by offers and
-- requests (schemas/requests/060_listing_exchange_ends.sql is a link). Expand only.
CREATE TABLE IF NOT EXISTS listing_exchange_ends (
  listing_id uuid NOT NULL,
  exchange_id uuid NOT NULL,
  ended_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (listing_id, exchange_id)
);
