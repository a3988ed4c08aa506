-- Copies of partner installations' listings (issue 23): a listing of another installation's
-- community that crosses to ours, told by its ledger over the federation link
-- (federation.listing.shared on ledger.events), kept beside ours so that one search reads both.
-- `partner_url` names the installation where it lives (NULL: ours); `partner_revision` is its
-- revision there (a copy keeps the newest). A copy is never edited here, never expires here
-- (its installation withdraws it) and announces nothing on our streams.
ALTER TABLE listings
  ADD COLUMN IF NOT EXISTS partner_url text,
  ADD COLUMN IF NOT EXISTS partner_revision bigint;
