-- RGPD export (published function, called by the members service for GET /v1/me/export;
-- SECURITY DEFINER and read-only, like members.session_identity): the member's exchanges with
-- their history, the messages of those exchanges (what the member already reads in the app),
-- the ratings they gave and received, and their notifications. Other people appear by id only.
-- Each kind the oldest first, at most 10000 rows ("truncated" says when one was cut).
CREATE FUNCTION exchange.member_export(p_member uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = exchange, pg_temp SET timezone = 'UTC' AS $$
  WITH mine AS (
    SELECT * FROM exchanges WHERE provider_id = p_member OR receiver_id = p_member
    ORDER BY seq LIMIT 10001
  ), kept AS (
    SELECT * FROM mine ORDER BY seq LIMIT 10000
  ), said AS (
    SELECT m.* FROM messages m JOIN kept e ON e.id = m.exchange_id ORDER BY m.seq LIMIT 10001
  ), rated AS (  -- the parties of an exchange are the only raters of it
    SELECT r.* FROM ratings r JOIN kept e ON e.id = r.exchange_id
    ORDER BY r.created_at, r.exchange_id, r.rater_id LIMIT 20001
  ), told AS (
    SELECT * FROM notifications WHERE member_id = p_member ORDER BY seq LIMIT 10001
  )
  SELECT json_build_object(
    'exchanges', COALESCE((
      SELECT json_agg(json_build_object(
               'id', e.id, 'community_id', e.community_id, 'state', e.state,
               'role', CASE WHEN e.provider_id = p_member THEN 'provider' ELSE 'receiver' END,
               'counterpart_id',
                 CASE WHEN e.provider_id = p_member THEN e.receiver_id ELSE e.provider_id END,
               'site_id', e.site_id, 'offer_id', e.offer_id, 'request_id', e.request_id,
               'minutes', e.doc -> 'minutes', 'message', e.message,
               'scheduled_at', e.scheduled_at, 'proposed_at', e.proposed_at,
               'updated_at', e.updated_at, 'reason', e.doc -> 'reason',
               'resolution', e.doc -> 'resolution', 'history', e.doc -> 'history')
             ORDER BY e.seq)
      FROM kept e), '[]'::json),
    'messages', COALESCE((
      SELECT json_agg(json_build_object(
               'id', m.id, 'exchange_id', m.exchange_id, 'author_id', m.author_id,
               'mine', m.author_id = p_member, 'acting_staff_id', m.acting_staff_id,
               'body', m.body, 'created_at', m.created_at)
             ORDER BY m.seq)
      FROM (SELECT * FROM said ORDER BY seq LIMIT 10000) m), '[]'::json),
    'ratings_given', COALESCE((
      SELECT json_agg(json_build_object(
               'exchange_id', r.exchange_id, 'rated_id', r.rated_id, 'stars', r.stars,
               'comment', r.comment, 'acting_staff_id', r.acting_staff_id,
               'created_at', r.created_at)
             ORDER BY r.created_at, r.exchange_id)
      FROM rated r WHERE r.rater_id = p_member), '[]'::json),
    'ratings_received', COALESCE((
      SELECT json_agg(json_build_object(
               'exchange_id', r.exchange_id, 'rater_id', r.rater_id, 'stars', r.stars,
               'comment', r.comment, 'created_at', r.created_at)
             ORDER BY r.created_at, r.exchange_id)
      FROM rated r WHERE r.rated_id = p_member), '[]'::json),
    'notifications', COALESCE((
      SELECT json_agg(json_build_object(
               'id', n.id, 'type', n.type, 'exchange_id', n.exchange_id, 'data', n.data,
               'created_at', n.created_at, 'read_at', n.read_at)
             ORDER BY n.seq)
      FROM (SELECT * FROM told ORDER BY seq LIMIT 10000) n), '[]'::json),
    'truncated', (SELECT count(*) FROM mine) > 10000 OR (SELECT count(*) FROM said) > 10000
                 OR (SELECT count(*) FROM rated) > 20000 OR (SELECT count(*) FROM told) > 10000)
$$;
