-- Who may find a listing (issue 23): its community (the default, what every listing was before),
-- the communities linked to it (`federation`) or anyone the installation shows listings to
-- (`public`). Shared by offers and requests (schemas/requests/042_listing_visibility.sql is a
-- link). Expand only: the previous release's inserts take the default.
ALTER TABLE listings ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'community'
  CHECK (visibility IN ('community', 'federation', 'public'));

-- Searches of a linked community read a partner's active listings that cross, near a point.
CREATE INDEX IF NOT EXISTS listings_crossing ON listings (community_id, created_at DESC)
  WHERE visibility <> 'community' AND status = 'active';

-- Published to the exchange service beside listing_copy (030): the visibility of a listing whose
-- event the exchange has not read yet, so that a proposal from a linked community made at once
-- is judged on it. SECURITY DEFINER, read-only, one value at most; NULL for an unknown listing.
DO $migration$
BEGIN
  EXECUTE format($create$
    CREATE FUNCTION %1$I.listing_visibility(p_id uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    AS $body$ SELECT l.visibility FROM listings l WHERE l.id = p_id $body$
  $create$, current_schema());
END
$migration$;
