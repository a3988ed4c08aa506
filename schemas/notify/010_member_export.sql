-- RGPD export (published function, called by the members service for GET /v1/me/export;
-- SECURITY DEFINER and read-only, like exchange.member_export): the member's in-app
-- notifications, oldest first, at most 10000 ("truncated" says when cut), and the notification
-- preferences they changed. The inbox moved here from the exchange service this round.
CREATE FUNCTION notify.member_export(p_member uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = notify, pg_temp SET timezone = 'UTC' AS $$
  WITH told AS (
    SELECT * FROM notifications WHERE member_id = p_member ORDER BY seq LIMIT 10001
  )
  SELECT json_build_object(
    'notifications', COALESCE((
      SELECT json_agg(json_build_object(
               'id', n.id, 'type', n.type, 'kind', n.kind, 'exchange_id', n.exchange_id,
               'data', n.data, 'created_at', n.created_at, 'read_at', n.read_at)
             ORDER BY n.seq)
      FROM (SELECT * FROM told ORDER BY seq LIMIT 10000) n), '[]'::json),
    'preferences', COALESCE((
      SELECT json_agg(json_build_object(
               'kind', p.kind, 'in_app', p.in_app, 'email', p.email, 'updated_at', p.updated_at)
             ORDER BY p.kind)
      FROM preferences p WHERE p.member_id = p_member), '[]'::json),
    'truncated', (SELECT count(*) FROM told) > 10000)
$$;
