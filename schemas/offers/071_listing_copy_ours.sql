-- listing_copy (030, 041) and listing_visibility (042) read only this installation's listings: a
-- partner installation's copy (070_partner_listings.sql) is shown in searches, never taken up
-- here. The exchange service asks these functions for a listing whose event it has not read yet;
-- a copy, whose owner has no account here and which announces nothing on our streams, must read
-- as unknown, so that no exchange is ever opened on it. Same signatures: replaced in place.
-- Shared by offers and requests (schemas/requests/071_listing_copy_ours.sql is a link).
DO $migration$
BEGIN
  EXECUTE format($create$
    CREATE OR REPLACE FUNCTION %1$I.listing_copy(p_id uuid)
    RETURNS TABLE (id uuid, side text, member_id uuid, community_id uuid, site_id uuid,
                   price_minutes bigint, status text, mode text, deposit_minutes bigint,
                   capacity integer, revision bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    AS $body$
      SELECT l.id, %2$L, l.member_id, l.community_id, l.site_id, l.price_minutes,
             CASE WHEN l.hidden_suspended OR l.hidden_moderated THEN 'closed' ELSE l.status END,
             l.mode, COALESCE(l.deposit_minutes, 0), l.capacity, l.revision
      FROM listings l WHERE l.id = p_id AND l.partner_url IS NULL
    $body$
  $create$, current_schema(), CASE current_schema() WHEN 'requests' THEN 'request' ELSE 'offer' END);
END
$migration$;

DO $migration$
BEGIN
  EXECUTE format($create$
    CREATE OR REPLACE FUNCTION %1$I.listing_visibility(p_id uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    AS $body$
      SELECT l.visibility FROM listings l WHERE l.id = p_id AND l.partner_url IS NULL
    $body$
  $create$, current_schema());
END
$migration$;
