-- Matching service: the read model of listings (from the offers and requests streams) that the
-- in-memory engine is rebuilt from at start, the matches it proposed, and members' reliability.

-- Listings as received. lat/lon is the exact handover point (the member's location, or the
-- site's when at_site): it never leaves this service, answers carry bucketed distances only.
CREATE TABLE listings (
  id uuid PRIMARY KEY,
  side text NOT NULL CHECK (side IN ('offer', 'request')),
  member_id uuid NOT NULL,
  community_id uuid NOT NULL,
  category text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('good', 'service')),
  mode text NOT NULL CHECK (mode IN ('give', 'lend', 'swap', 'service')),
  lat double precision NOT NULL,
  lon double precision NOT NULL,
  site_id uuid,
  at_site boolean NOT NULL DEFAULT false,
  reach_m integer NOT NULL CHECK (reach_m >= 0),
  available_from timestamptz,
  available_until timestamptz,
  status text NOT NULL CHECK (status IN ('active', 'paused', 'reserved', 'closed', 'expired')),
  title text NOT NULL,
  words text NOT NULL DEFAULT '',  -- title and tags, for word overlap in scores
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX listings_member ON listings (member_id);
-- The start-up rebuild reads only active listings.
CREATE INDEX listings_active ON listings (community_id) WHERE status = 'active';

-- One row per (offer, request) pair ever proposed; a dismissed pair is never proposed again.
CREATE TABLE matches (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL,
  offer_id uuid NOT NULL,
  request_id uuid NOT NULL,
  offer_member_id uuid NOT NULL,
  request_member_id uuid NOT NULL,
  score double precision NOT NULL,
  distance_m integer NOT NULL CHECK (distance_m > 0),
  status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'dismissed')),
  dismissed_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (offer_id, request_id)
);
CREATE INDEX matches_request ON matches (request_id);
CREATE INDEX matches_offer_member ON matches (offer_member_id);
CREATE INDEX matches_request_member ON matches (request_member_id);

-- Completed and abandoned exchanges per member, from the exchanges stream: the engine's
-- reliability input.
CREATE TABLE member_reliability (
  member_id uuid PRIMARY KEY,
  completed integer NOT NULL DEFAULT 0 CHECK (completed >= 0),
  abandoned integer NOT NULL DEFAULT 0 CHECK (abandoned >= 0)
);
