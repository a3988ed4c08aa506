-- Who may find a listing (issue 23; exchange/listing.hpp): community (the default, what every
-- listing was before), federation or public. Only the last two are matched with, and shown to,
-- the communities linked to the listing's.
ALTER TABLE listings ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'community';
