-- Listings that cross to partner installations (issue 23): the ledger, which holds the keys and
-- the signed channel to every partner, keeps a copy of each listing that may leave this
-- installation (visibility federation or public) from the offers and requests streams, and
-- remembers what it last told each link about it. A sending round (federation_listings.cpp)
-- queues listing.publish or listing.withdraw to each active link whose partner has not heard of
-- the listing's newest revision: a new link, a resumed one or a partner down for hours catches up
-- the same way.
CREATE TABLE IF NOT EXISTS federation_listings (
  id uuid PRIMARY KEY,
  side text NOT NULL CHECK (side IN ('offer', 'request')),
  community_id uuid NOT NULL,
  revision bigint NOT NULL,
  -- Partners may show it now: federation or public, active, not hidden. False: withdrawn.
  crossing boolean NOT NULL,
  body jsonb NOT NULL  -- what a partner is sent: no exact location, only the privacy grid
);
CREATE INDEX IF NOT EXISTS federation_listings_by_community
  ON federation_listings (community_id, id);

-- What each link's partner was last told of a listing (the revision, and whether it crosses).
CREATE TABLE IF NOT EXISTS federation_listing_shares (
  link_id uuid NOT NULL,
  community_id uuid NOT NULL,  -- ours: the link's side
  listing_id uuid NOT NULL,
  revision bigint NOT NULL,
  crossing boolean NOT NULL,
  PRIMARY KEY (link_id, community_id, listing_id)
);
