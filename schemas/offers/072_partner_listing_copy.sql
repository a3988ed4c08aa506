-- Published to the exchange service (issue 23): a partner installation's listing as kept here
-- (070_partner_listings.sql), for a proposal on it. The exchange then lives here, the proposer's
-- installation, and the owner takes part from theirs (services/exchange/partner_exchanges.cpp).
-- Only an open copy of a listing that crosses reads; one of our own listings never does (that is
-- listing_copy's). SECURITY DEFINER, read-only, one row at most. Shared by offers and requests
-- (schemas/requests/072_partner_listing_copy.sql is a link).
DO $migration$
BEGIN
  EXECUTE format($create$
    CREATE OR REPLACE FUNCTION %1$I.partner_listing_copy(p_id uuid)
    RETURNS TABLE (id uuid, side text, member_id uuid, community_id uuid, price_minutes bigint,
                   status text, mode text, deposit_minutes bigint, capacity integer,
                   visibility text, partner_url text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    AS $body$
      SELECT l.id, %2$L, l.member_id, l.community_id, l.price_minutes, l.status, l.mode,
             COALESCE(l.deposit_minutes, 0), l.capacity, l.visibility, l.partner_url
      FROM listings l
      WHERE l.id = p_id AND l.partner_url IS NOT NULL
        AND l.visibility IN ('federation', 'public')
    $body$
  $create$, current_schema(), CASE current_schema() WHEN 'requests' THEN 'request' ELSE 'offer' END);
END
$migration$;
