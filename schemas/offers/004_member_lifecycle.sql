-- Listings follow their owner's standing (services/offers/consumers.cpp): hidden while the owner
-- is suspended, hidden for good when staff moderate a report, closed when the owner is erased.
-- Hiding never touches `status`: a reinstated member finds each listing as it was (active,
-- paused or reserved), and the exchange and expiry rules keep working underneath.
-- schemas/requests/004_member_lifecycle.sql is a link to this file (one listing code, two schemas).
ALTER TABLE listings
  ADD COLUMN hidden_suspended boolean NOT NULL DEFAULT false,  -- owner suspended
  ADD COLUMN hidden_moderated boolean NOT NULL DEFAULT false,  -- staff closed a report with "hide"
  ADD COLUMN hidden_report_id uuid;                            -- that report

-- The last lifecycle event applied per member (members stream): suspended members and erased
-- ones may not post, and an older event (replicas may deliver out of order) never undoes a newer
-- one. `erased` is final.
CREATE TABLE member_standing (
  member_id uuid PRIMARY KEY,
  community_id uuid NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'suspended', 'erased')),
  event_at timestamptz NOT NULL
);
