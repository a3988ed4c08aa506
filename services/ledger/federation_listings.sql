-- The SQL of services/ledger/federation_listings.cpp, one statement per `-- name: <its C++
-- constant>`. At build time, cmake/sql_queries.cmake turns this file into the header
-- services/ledger/federation_listings_sql.hpp, which federation_listings.cpp includes.
-- Whitespace is free; `--` lines are comments.
-- namespace: maillon::ledger::remote
-- linkage: file-local

-- name: kKeepCrossing
-- A listing that may cross: its newest revision kept (an older event, redelivered or read out of
-- order, changes nothing).
INSERT INTO federation_listings AS l (id, side, community_id, revision, crossing, body)
VALUES ($1::uuid, $2, $3::uuid, $4, true, $5::jsonb)
ON CONFLICT (id) DO UPDATE
SET revision = EXCLUDED.revision, crossing = true, body = EXCLUDED.body,
  community_id = EXCLUDED.community_id
WHERE l.revision < EXCLUDED.revision;

-- name: kStopCrossing
-- A listing kept here that no longer crosses (closed, paused, reserved, hidden, back to its
-- community): only a row already kept changes, so listings that never crossed cost nothing.
UPDATE federation_listings
SET revision = $2, crossing = false
WHERE id = $1::uuid
  AND revision < $2;

-- name: kToShare
-- What the partners of active links with other installations have not been told yet: each
-- listing of the link's community at a newer revision than the one last sent over that link,
-- when it crosses now or crossed when last sent (then it is withdrawn).
SELECT k.id::text, k.community_id::text, l.id::text, l.revision, l.crossing, l.body::text
FROM federation_links k
JOIN federation_listings l ON l.community_id = k.community_id
LEFT JOIN federation_listing_shares s ON s.link_id = k.id AND s.community_id = k.community_id
  AND s.listing_id = l.id
WHERE k.state = 'active'
  AND k.partner_url IS NOT NULL
  AND k.partner_public_key IS NOT NULL
  AND (s.listing_id IS NULL OR s.revision < l.revision)
  AND (l.crossing OR COALESCE(s.crossing, false))
ORDER BY l.revision
LIMIT $1;

-- name: kRecordShare
INSERT INTO federation_listing_shares AS s (link_id, community_id, listing_id, revision, crossing)
VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5)
ON CONFLICT (link_id, community_id, listing_id) DO UPDATE
SET revision = EXCLUDED.revision, crossing = EXCLUDED.crossing;

-- name: kIsOurMember
-- A member with an account here: a partner never speaks for one of ours (a listing it says is
-- theirs, an exchange act in their name).
SELECT 1
FROM accounts
WHERE member_id = $1::uuid;
