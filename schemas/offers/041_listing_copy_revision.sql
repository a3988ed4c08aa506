-- listing_copy (030_listing_copy.sql) also returns the listing's revision: the exchange service
-- keeps it with the copy it makes from this function, so that an event of an older revision,
-- read after the lookup, cannot put back an older state (schemas/exchange/007_listing_revision.sql).
-- The result type of a function cannot change in place: dropped and created again, in the
-- migration's transaction. Callers name their columns, so an exchange of the previous release
-- (which does not ask for `revision`) reads it as before. Shared by offers and requests
-- (schemas/requests/041_listing_copy_revision.sql is a link).
DO $migration$
BEGIN
  EXECUTE format('DROP FUNCTION %I.listing_copy(uuid)', current_schema());
  EXECUTE format($create$
    CREATE FUNCTION %1$I.listing_copy(p_id uuid)
    RETURNS TABLE (id uuid, side text, member_id uuid, community_id uuid, site_id uuid,
                   price_minutes bigint, status text, mode text, deposit_minutes bigint,
                   capacity integer, revision bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    AS $body$
      SELECT l.id, %2$L, l.member_id, l.community_id, l.site_id, l.price_minutes,
             CASE WHEN l.hidden_suspended OR l.hidden_moderated THEN 'closed' ELSE l.status END,
             l.mode, COALESCE(l.deposit_minutes, 0), l.capacity, l.revision
      FROM listings l WHERE l.id = p_id
    $body$
  $create$, current_schema(), CASE current_schema() WHEN 'requests' THEN 'request' ELSE 'offer' END);
END
$migration$;
