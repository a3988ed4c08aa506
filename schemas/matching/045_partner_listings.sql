-- A partner installation's offers (issue 23), as our ledger was told them
-- (federation.listing.shared): matched with our requests that cross, so that a member is told of
-- an offer next door even when it lives on another installation, and proposes on it from here
-- (the exchange then lives here: services/exchange/partner_exchanges.cpp). partner_url: where the
-- offer lives (NULL: one of ours); partner_revision: its revision there, the newest wins. Its
-- position is the privacy grid's point, the only one that crosses. A copy is written only over a
-- copy of the same installation and community, never over one of our listings.
ALTER TABLE listings ADD COLUMN IF NOT EXISTS partner_url text;
ALTER TABLE listings ADD COLUMN IF NOT EXISTS partner_revision bigint;
