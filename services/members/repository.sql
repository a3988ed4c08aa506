-- The SQL of services/members/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/members/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon::members::repo
-- linkage: file-local

-- name: kMemberColumns
m.id, COALESCE(m.community_id::text, ''), m.email, m.display_name,
  COALESCE(m.home_site_id::text, ''), m.lat, m.lon, m.is_admin,
  COALESCE((SELECT string_agg(s.site_id::text, ',' ORDER BY s.site_id) FROM site_staff s WHERE
  s.member_id = m.id), ''), m.exchanges_completed, m.exchanges_abandoned,
  COALESCE(m.password_hash, ''), to_char(m.created_at AT TIME ZONE 'UTC',
  'YYYY-MM-DD"T"HH24:MI:SS"Z"'), m.status, COALESCE(m.member_number, 0),
  m.email_verified_at IS NOT NULL, m.rating_sum, m.rating_count, m.no_shows;

-- name: kInsertMember
INSERT INTO members (id, community_id, email, password_hash, display_name, home_site_id, lat,
  lon, is_admin)
VALUES ($1, $2::uuid, $3, $4, $5, $6::uuid, $7, $8, $9)
ON CONFLICT DO NOTHING;

-- name: kUpdateProfile
UPDATE members
SET display_name = COALESCE($2, display_name), home_site_id = COALESCE($3::uuid, home_site_id),
  lat = COALESCE($4, lat), lon = COALESCE($5, lon), updated_at = now()
WHERE id = $1;

-- name: kEraseMember
-- The member's mails still queued or kept go with them (the old address, read before the
-- UPDATE: every part of one statement sees the same snapshot).
WITH mails AS (
  DELETE FROM mail_queue q
  USING members m
  WHERE m.id = $1
    AND lower(q.recipient) = lower(m.email)
)
UPDATE members
SET email = 'erased-' || id || '@invalid', display_name = 'Membre supprimé',
  password_hash = NULL, lat = NULL, lon = NULL, erased_at = now(), updated_at = now()
WHERE id = $1;

-- name: kInsertSession
INSERT INTO sessions (token_hash, member_id, expires_at)
VALUES ($1, $2, now() + make_interval(hours => $3));

-- name: kRevokeSession
UPDATE sessions
SET revoked_at = now()
WHERE token_hash = $1
  AND revoked_at IS NULL
RETURNING GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint;

-- name: kLiveSessions
SELECT token_hash
FROM sessions
WHERE member_id = $1
  AND revoked_at IS NULL
  AND expires_at > now();

-- name: kRevokeAll
UPDATE sessions
SET revoked_at = now()
WHERE member_id = $1
  AND revoked_at IS NULL
RETURNING token_hash, GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint;

-- name: kInsertCommunity
INSERT INTO communities (id, name, policy)
VALUES ($1, $2, $3::jsonb);

-- name: kFindCommunity
SELECT id, name, policy::text
FROM communities
WHERE id = $1;

-- name: kLockCommunity
SELECT id, name, policy::text
FROM communities
WHERE id = $1
FOR UPDATE;

-- name: kUpdateCommunity
UPDATE communities
SET name = $2, policy = $3::jsonb
WHERE id = $1;

-- name: kUpdateSite
UPDATE sites
SET name = $2, kind = $3, lat = $4, lon = $5, address = $6, opening_hours = $7
WHERE id = $1;

-- name: kInsertSite
INSERT INTO sites (id, community_id, name, kind, lat, lon, address, opening_hours)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: kSiteColumns
SELECT id, community_id, name, kind, lat, lon, address, opening_hours
FROM sites;

-- name: kAddStaff
INSERT INTO site_staff (site_id, member_id, added_by)
VALUES ($1, $2, $3::uuid)
ON CONFLICT DO NOTHING;

-- name: kAudit
INSERT INTO audit_log (actor_id, subject_id, action, details)
VALUES ($1::uuid, $2::uuid, $3, $4::jsonb);

-- name: kAuditJson
SELECT COALESCE(json_agg(json_build_object('at', at, 'action', action, 'actor_id',
  actor_id, 'details', details) ORDER BY id), '[]'::json)::text
FROM audit_log
WHERE subject_id = $1;

-- name: kCountExchange
UPDATE members
SET exchanges_completed = exchanges_completed + $2, exchanges_abandoned = exchanges_abandoned + $3
WHERE id = $1;

-- name: kRecordRating
UPDATE members
SET rating_sum = rating_sum + $2, rating_count = rating_count + 1
WHERE id = $1;

-- name: kCountNoShow
UPDATE members
SET no_shows = no_shows + 1
WHERE id = $1;

-- name: kFoldEmail
-- An address as lower(email) finds its account (email_key in repository.cpp).
SELECT lower($1::text);
