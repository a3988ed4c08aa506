-- Published to the exchange service: one listing as the exchange copies it from the listing
-- events, for a proposal that names a listing whose event the exchange has not read yet (read
-- your own writes: a member proposes on an offer the moment it is created). Shared by offers and
-- requests (schemas/requests/030_listing_copy.sql is a link): created in the schema being
-- migrated, reading only that schema. SECURITY DEFINER, read-only, one row at most; a hidden
-- listing reads as closed, as its events announce it.
DO $migration$
BEGIN
  EXECUTE format($create$
    CREATE FUNCTION %1$I.listing_copy(p_id uuid)
    RETURNS TABLE (id uuid, side text, member_id uuid, community_id uuid, site_id uuid,
                   price_minutes bigint, status text, mode text, deposit_minutes bigint,
                   capacity integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    AS $body$
      SELECT l.id, %2$L, l.member_id, l.community_id, l.site_id, l.price_minutes,
             CASE WHEN l.hidden_suspended OR l.hidden_moderated THEN 'closed' ELSE l.status END,
             l.mode, COALESCE(l.deposit_minutes, 0), l.capacity
      FROM listings l WHERE l.id = p_id
    $body$
  $create$, current_schema(), CASE current_schema() WHEN 'requests' THEN 'request' ELSE 'offer' END);
END
$migration$;
