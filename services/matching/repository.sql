-- The SQL of services/matching/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/matching/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon::matching_service::repo
-- linkage: file-local

-- name: kListingColumns
id::text, side, member_id::text, community_id::text, category, kind, mode, lat, lon,
  at_site, reach_m, floor(extract(epoch FROM available_from))::bigint,
  floor(extract(epoch FROM available_until))::bigint, status, title, words,
  floor(extract(epoch FROM created_at))::bigint, revision, visibility;

-- name: kUpsertListing
-- A closed listing stays closed; an older event never overwrites a newer one.
INSERT INTO listings (id, side, member_id, community_id, category, kind, mode, lat, lon,
  site_id, at_site, reach_m, available_from, available_until, status, title, words,
  created_at, updated_at, visibility)
VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5, $6, $7, $8, $9, $10::uuid, $11, $12,
  $13::timestamptz, $14::timestamptz, $15, $16, $17, $18::timestamptz, $19::timestamptz, $20)
ON CONFLICT (id)
DO UPDATE SET category = EXCLUDED.category, visibility = EXCLUDED.visibility,
  kind = EXCLUDED.kind, mode = EXCLUDED.mode, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
  site_id = EXCLUDED.site_id, at_site = EXCLUDED.at_site, reach_m = EXCLUDED.reach_m,
  available_from = EXCLUDED.available_from, available_until = EXCLUDED.available_until,
  status = EXCLUDED.status, title = EXCLUDED.title, words = EXCLUDED.words,
  updated_at = EXCLUDED.updated_at, revision = listings.revision + 1
WHERE listings.status NOT IN ('closed', 'expired')
  AND listings.updated_at <= EXCLUDED.updated_at
RETURNING;

-- name: kUpsertPartnerListing
-- A partner installation's offer at a newer revision than the copy kept (a closed copy opens
-- again when a newer revision crosses again); never over a listing of ours or another's copy.
INSERT INTO listings AS l (id, side, member_id, community_id, category, kind, mode, lat, lon,
  site_id, at_site, reach_m, available_from, available_until, status, title, words,
  created_at, updated_at, visibility, partner_url, partner_revision)
VALUES ($1::uuid, 'offer', $2::uuid, $3::uuid, $4, $5, $6, $7, $8, NULL, false, $9,
  $10::timestamptz, $11::timestamptz, 'active', $12, $13, $14::timestamptz, now(), $15, $16,
  $17)
ON CONFLICT (id)
DO UPDATE SET category = EXCLUDED.category, visibility = EXCLUDED.visibility,
  kind = EXCLUDED.kind, mode = EXCLUDED.mode, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
  reach_m = EXCLUDED.reach_m, available_from = EXCLUDED.available_from,
  available_until = EXCLUDED.available_until, status = 'active', title = EXCLUDED.title,
  words = EXCLUDED.words, updated_at = now(), partner_revision = EXCLUDED.partner_revision,
  revision = l.revision + 1
WHERE l.partner_url = EXCLUDED.partner_url
  AND l.community_id = EXCLUDED.community_id
  AND l.partner_revision < EXCLUDED.partner_revision
RETURNING;

-- name: kWithdrawPartnerListing
-- A partner's offer that no longer crosses: its copy closed, at that revision.
UPDATE listings
SET status = 'closed', partner_revision = $3, revision = revision + 1
WHERE id = $1::uuid
  AND partner_url = $2
  AND partner_revision < $3
RETURNING community_id::text;

-- name: kOpenPartnerCopies
-- The open copies of a partner community's offers, counted up to the cap.
SELECT count(*)
FROM (SELECT 1 FROM listings WHERE community_id = $1::uuid AND partner_url IS NOT NULL
  AND status = 'active' LIMIT $2) c;

-- name: kCloseListing
UPDATE listings
SET status = $2, revision = revision + 1
WHERE id = $1::uuid
RETURNING community_id::text;

-- name: kCloseListingsOfMember
UPDATE listings
SET status = 'closed', revision = revision + 1
WHERE member_id = $1::uuid
  AND status <> 'closed'
RETURNING;

-- name: kActiveListings
FROM listings
WHERE status = 'active';

-- name: kCrossingListingsOf
-- The active listings of these communities that cross (visibility federation or public).
FROM listings
WHERE status = 'active'
  AND visibility <> 'community'
  AND community_id = ANY($1::uuid[])
ORDER BY id;

-- name: kSummaryColumns
SELECT id::text, side, member_id::text, category, title, kind, mode, status, lat, lon
FROM listings;

-- name: kUpsertMatches
INSERT INTO matches (id, community_id, offer_id, request_id, offer_member_id,
  request_member_id, score, distance_m)
SELECT *
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[],
  $7::float8[], $8::integer[])
ON CONFLICT (offer_id, request_id)
DO UPDATE SET score = EXCLUDED.score, distance_m = EXCLUDED.distance_m
RETURNING id::text, (xmax = 0);

-- name: kProposedCounterparts
SELECT (CASE WHEN offer_id = $1::uuid THEN request_id ELSE offer_id END)::text
FROM matches
WHERE (offer_id = $1::uuid OR request_id = $1::uuid)
  AND status = 'proposed';

-- name: kDeleteProposedMatches
DELETE
FROM matches
WHERE status = 'proposed'
  AND ((offer_id = $1::uuid AND request_id = ANY($2::uuid[])) OR (request_id = $1::uuid AND offer_id
    = ANY($2::uuid[])));

-- name: kMatchColumns
SELECT m.id::text, m.community_id::text, m.offer_id::text,
  m.request_id::text, m.offer_member_id::text, m.request_member_id::text, m.score,
  m.distance_m, m.status
FROM matches m
JOIN listings o ON o.id = m.offer_id
  AND o.status = 'active'
JOIN listings r ON r.id = m.request_id
  AND r.status = 'active'
WHERE m.status = 'proposed'
  -- A pair across communities shows while their link is active (both sides): a suspension takes
  -- its proposals away at once, whatever the index still holds. A partner in another
  -- installation has no row here: our side of the link stands for both (its suspension reaches
  -- ours as link.suspend), as in federation_partners' kActiveSides.
  AND (o.community_id = r.community_id
    OR EXISTS (
      SELECT
      FROM federation_partners ours
      LEFT JOIN federation_partners theirs ON theirs.community_id = ours.partner_community_id
        AND theirs.partner_community_id = ours.community_id
      WHERE ((ours.community_id = o.community_id AND ours.partner_community_id = r.community_id)
          OR (ours.community_id = r.community_id AND ours.partner_community_id = o.community_id))
        AND ours.state = 'active'
        AND (ours.partner_url IS NOT NULL OR theirs.state = 'active')));

-- name: kMatchesOfListingWhere
AND (m.offer_id = $1::uuid OR m.request_id = $1::uuid)
ORDER BY m.score DESC, m.id
LIMIT $2;

-- name: kMatchesOfMemberWhere
AND (m.offer_member_id = $1::uuid OR m.request_member_id = $1::uuid)
ORDER BY m.score DESC, m.id
LIMIT $2
OFFSET $3;

-- name: kDismiss
UPDATE matches
SET status = 'dismissed', dismissed_by = COALESCE(dismissed_by, $2::uuid)
WHERE id = $1::uuid
  AND (offer_member_id = $2::uuid OR request_member_id = $2::uuid);

-- name: kCountExchange
INSERT INTO member_reliability (member_id, completed, abandoned)
VALUES ($1::uuid, $2, $3)
ON CONFLICT (member_id)
DO UPDATE SET completed = member_reliability.completed + $2,
  abandoned = member_reliability.abandoned + $3, written_by_xact = pg_current_xact_id()
RETURNING completed, abandoned;

-- name: kAllReliability
SELECT member_id::text, completed, abandoned
FROM member_reliability;

-- name: kReliabilitySince
-- The rows counted since a feed position (schemas/matching/004_reliability_feed.sql).
SELECT member_id::text, completed, abandoned
FROM member_reliability
WHERE written_by_xact >= $1::xid8;

-- name: kCountProposals
-- One more proposal received today for each member in $1 (once per occurrence), in member order
-- so that two replicas counting the same members lock their rows alike; returns each member's
-- count over the last 14 days (schemas/matching/046_member_proposals.sql). The other days' rows
-- are not written by this statement, so its snapshot sees them as they are. The members' days
-- that no longer count go at the same time: a process that runs for years keeps at most 14 rows
-- for a member still proposed to (kForgetOldProposals, at a rebuild, takes the others').
WITH forgotten AS (
DELETE
FROM member_proposals
WHERE member_id = ANY($1::uuid[])
  AND day <= current_date - 14
), counted AS (
INSERT INTO member_proposals AS p (member_id, day, received)
SELECT member_id, current_date, count(*)::integer
FROM unnest($1::uuid[]) AS member_id
GROUP BY member_id
ORDER BY member_id
ON CONFLICT (member_id, day)
DO UPDATE SET received = p.received + EXCLUDED.received, written_by_xact = pg_current_xact_id()
RETURNING member_id, received
)
SELECT c.member_id::text, c.received + COALESCE((
  SELECT sum(o.received)
  FROM member_proposals o
  WHERE o.member_id = c.member_id AND o.day > current_date - 14 AND o.day < current_date), 0)
FROM counted c;

-- name: kForgetOldProposals
DELETE
FROM member_proposals
WHERE day <= current_date - 14;

-- name: kAllProposals
SELECT member_id::text, sum(received)
FROM member_proposals
WHERE day > current_date - 14
GROUP BY member_id;

-- name: kProposalsSince
-- The members whose counts were written at or after a feed position, with their counts now.
SELECT member_id::text, COALESCE(sum(received) FILTER (WHERE day > current_date - 14), 0)
FROM member_proposals
WHERE member_id IN (
    SELECT member_id
    FROM member_proposals
    WHERE written_by_xact >= $1::xid8)
GROUP BY member_id;
