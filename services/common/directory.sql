-- The SQL of services/common/directory.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/common/directory_sql.hpp, which directory.cpp includes. Whitespace is free; `--` lines
-- are comments.
-- namespace: maillon::directory
-- linkage: file-local

-- name: kUpsertCommunity
-- described_at keeps the newer description: a redelivered older event changes nothing.
INSERT INTO communities AS c (id, name, policy, described_at)
VALUES ($1, $2, $3::jsonb, NULLIF($4, '')::timestamptz)
ON CONFLICT (id)
DO UPDATE SET name = EXCLUDED.name, policy = EXCLUDED.policy, described_at = EXCLUDED.described_at
WHERE c.described_at IS NULL
  OR EXCLUDED.described_at IS NULL
  OR c.described_at <= EXCLUDED.described_at;

-- name: kUpsertSite
INSERT INTO sites AS s (id, community_id, name, kind, address, opening_hours, lat,
  lon, described_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, '')::timestamptz)
ON CONFLICT (id)
DO UPDATE SET community_id = EXCLUDED.community_id, name = EXCLUDED.name,
  kind = EXCLUDED.kind, address = EXCLUDED.address, opening_hours = EXCLUDED.opening_hours,
  lat = EXCLUDED.lat, lon = EXCLUDED.lon, described_at = EXCLUDED.described_at
WHERE s.described_at IS NULL
  OR EXCLUDED.described_at IS NULL
  OR s.described_at <= EXCLUDED.described_at;

-- name: kCommunity
SELECT id, name, policy::text
FROM communities
WHERE id = $1;

-- name: kPolicy
SELECT policy::text
FROM communities
WHERE id = $1;

-- name: kCommunityIds
SELECT id
FROM communities
ORDER BY id;

-- name: kSite
SELECT id, community_id, name, kind, address, opening_hours, lat, lon
FROM sites
WHERE id = $1;
