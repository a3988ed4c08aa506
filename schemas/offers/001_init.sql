-- A listing service (offers or requests): its listings and the sites they refer to.
-- schemas/requests/001_init.sql is a link to this file: both services run one listing code
-- (services/offers/) and its statements (services/offers/repository.cpp) on their own schema.

-- French full-text search that ignores accents ("velo" finds "vélo"), shared by both schemas:
-- created once in public. Migrations of all schemas hold one advisory lock, so no race here.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
    CREATE EXTENSION unaccent SCHEMA public;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE c.cfgname = 'french_unaccent' AND n.nspname = 'public') THEN
    CREATE TEXT SEARCH CONFIGURATION public.french_unaccent (COPY = pg_catalog.french);
    ALTER TEXT SEARCH CONFIGURATION public.french_unaccent
      ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, french_stem;
  END IF;
END
$$;

-- A generated column needs an immutable expression; array_to_string is only stable (it
-- depends on the element type's output function), but for text[] the result cannot change.
CREATE FUNCTION listing_search_vector(title text, description text, tags text[])
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('public.french_unaccent'::regconfig, title), 'A')
      || setweight(to_tsvector('public.french_unaccent'::regconfig, array_to_string(tags, ' ')), 'B')
      || setweight(to_tsvector('public.french_unaccent'::regconfig, description), 'C')
$$;

-- Sites of every community, copied from the members stream (site.created): a listing may be
-- handed over at a site, and then the site's position is the listing's.
CREATE TABLE sites (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL,
  lat double precision NOT NULL,
  lon double precision NOT NULL
);

CREATE TABLE listings (
  id uuid PRIMARY KEY,
  member_id uuid NOT NULL,
  community_id uuid NOT NULL,
  home_site_id uuid,                 -- the owner's home site at creation: its staff may edit
  site_id uuid,                      -- handover site, when any
  kind text NOT NULL CHECK (kind IN ('good', 'service')),
  mode text NOT NULL CHECK (mode IN ('give', 'lend', 'swap', 'service')),
  category text NOT NULL,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  tags text[] NOT NULL DEFAULT '{}',
  lat double precision,              -- the member's exact location (never shown to others)
  lon double precision,
  position_lat double precision NOT NULL,  -- exact handover point: location, else the site's
  position_lon double precision NOT NULL,
  grid_lat double precision NOT NULL,      -- that point snapped to the 250 m privacy grid:
  grid_lon double precision NOT NULL,      -- every distance shown is computed from it
  reach_km double precision NOT NULL,
  price_minutes bigint NOT NULL CHECK (price_minutes >= 0),
  duration_minutes bigint,
  available_from timestamptz,
  available_until timestamptz,
  photos text[] NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('active', 'paused', 'reserved', 'closed', 'expired')),
  exchange_id uuid,                  -- the accepted exchange holding the listing (reserved)
  acted_by uuid,                     -- staff member who last acted for the owner, if any
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (listing_search_vector(title, description, tags)) STORED
);

-- The list order (newest first, id as tie-break) per community and status: keyset pages.
CREATE INDEX listings_by_recency ON listings (community_id, status, created_at DESC, id DESC);
CREATE INDEX listings_search ON listings USING gin (search);
-- near=lat,lon: a bounding box on the snapped position, then the exact radius.
CREATE INDEX listings_by_position ON listings (community_id, grid_lat, grid_lon);
CREATE INDEX listings_by_member ON listings (member_id, created_at DESC, id DESC);
-- The expiry job looks only at listings that can still expire.
CREATE INDEX listings_expiring ON listings (available_until)
  WHERE status IN ('active', 'paused') AND available_until IS NOT NULL;
