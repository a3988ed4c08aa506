-- RGPD export (published function, called by the members service for GET /v1/me/export):
-- every listing the member posted on this side, with what only they and staff see (the exact
-- location, who acted for them, whether and why it is hidden). Nothing about other members.
-- Shared by offers and requests (schemas/requests/005_member_export.sql is a link): the function
-- is created in the schema being migrated and reads only that schema, whatever the caller's
-- search_path. At most kListingsMax (10000) listings, the oldest first, and says when it cut.
DO $migration$
BEGIN
  EXECUTE format($create$
    CREATE FUNCTION %1$I.member_export(p_member uuid) RETURNS json
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    SET timezone = 'UTC'
    AS $body$
      WITH kept AS (
        SELECT * FROM listings WHERE member_id = p_member
        ORDER BY created_at, id LIMIT 10001
      )
      SELECT json_build_object(
        'side', %2$L,
        'listings', COALESCE((
          SELECT json_agg(json_build_object(
                   'id', l.id, 'status', l.status,
                   'hidden', l.hidden_suspended OR l.hidden_moderated,
                   'kind', l.kind, 'mode', l.mode, 'category', l.category, 'title', l.title,
                   'description', l.description, 'tags', l.tags,
                   'location', CASE WHEN l.lat IS NULL THEN NULL
                                    ELSE json_build_object('lat', l.lat, 'lon', l.lon) END,
                   'site_id', l.site_id, 'home_site_id', l.home_site_id,
                   'reach_km', l.reach_km, 'price_minutes', l.price_minutes,
                   'duration_minutes', l.duration_minutes,
                   'available_from', l.available_from, 'available_until', l.available_until,
                   'photos', l.photos, 'exchange_id', l.exchange_id, 'acted_by', l.acted_by,
                   'created_at', l.created_at, 'updated_at', l.updated_at)
                 ORDER BY l.created_at, l.id)
          FROM (SELECT * FROM kept ORDER BY created_at, id LIMIT 10000) l), '[]'::json),
        'truncated', (SELECT count(*) > 10000 FROM kept))
    $body$
  $create$, current_schema(), CASE current_schema() WHEN 'requests' THEN 'request' ELSE 'offer' END);
END
$migration$;
