-- The SQL of services/offers/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/offers/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--` lines
-- are comments.
-- namespace: maillon::listings
-- linkage: file-local

-- name: kColumns
id, member_id, community_id, COALESCE(home_site_id::text, ''), site_id, kind, mode, category,
  title, description, array_to_json(tags)::text, lat, lon, position_lat, position_lon,
  grid_lat, grid_lon, reach_km, price_minutes, duration_minutes,
  floor(extract(epoch FROM available_from))::bigint,
  floor(extract(epoch FROM available_until))::bigint, array_to_json(photos)::text,
  status, exchange_id, acted_by, floor(extract(epoch FROM created_at))::bigint,
  floor(extract(epoch FROM updated_at))::bigint, (extract(epoch FROM created_at) * 1000000)::bigint,
  current_schema(), hidden_suspended, hidden_moderated, deposit_minutes, capacity,
  revision, visibility, partner_url;

-- name: kInsertListing
INSERT INTO listings (id, member_id, community_id, home_site_id, site_id, kind, mode,
  category, title, description, tags, lat, lon, position_lat, position_lon, grid_lat,
  grid_lon, reach_km, price_minutes, duration_minutes, available_from, available_until,
  photos, status, acted_by, deposit_minutes, capacity, visibility)
VALUES ($1, $2, $3, $4::uuid, $5::uuid, $6, $7, $8, $9, $10,
  ARRAY(SELECT jsonb_array_elements_text($11::jsonb)), $12, $13, $14, $15, $16, $17, $18, $19,
  $20, to_timestamp($21::bigint), to_timestamp($22::bigint),
  ARRAY(SELECT jsonb_array_elements_text($23::jsonb)), $24, $25::uuid, $26, $27, $28);

-- name: kInsertNewListings
-- New listings of a batch (services/offers/create_batch.cpp) in one statement, from a JSON array
-- of rows (listing_record's fields), each written only when its owner may post: the standing is
-- read by this statement, after the caller's lock_members. RETURNING: the ids written and the
-- time they were written at (created_at and updated_at default to now(), the transaction's).
INSERT INTO listings (id, member_id, community_id, home_site_id, site_id, kind, mode,
  category, title, description, tags, lat, lon, position_lat, position_lon, grid_lat,
  grid_lon, reach_km, price_minutes, duration_minutes, available_from, available_until,
  photos, status, acted_by, deposit_minutes, capacity, visibility)
SELECT r.id, r.member_id, r.community_id, r.home_site_id, r.site_id, r.kind, r.mode,
  r.category, r.title, r.description, ARRAY(SELECT jsonb_array_elements_text(r.tags)), r.lat,
  r.lon, r.position_lat, r.position_lon, r.grid_lat, r.grid_lon, r.reach_km,
  r.price_minutes, r.duration_minutes, to_timestamp(r.available_from),
  to_timestamp(r.available_until), ARRAY(SELECT jsonb_array_elements_text(r.photos)),
  r.status, r.acted_by, r.deposit_minutes, r.capacity, r.visibility
FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, member_id uuid, community_id uuid,
  home_site_id uuid, site_id uuid, kind text, mode text, category text, title text,
  description text, tags jsonb, lat float8, lon float8, position_lat float8,
  position_lon float8, grid_lat float8, grid_lon float8, reach_km float8,
  price_minutes bigint, duration_minutes bigint, available_from bigint,
  available_until bigint, photos jsonb, status text, acted_by uuid, deposit_minutes bigint,
  capacity integer, visibility text)
WHERE NOT EXISTS (SELECT 1 FROM member_standing s WHERE s.member_id = r.member_id AND s.state <>
  'active')
RETURNING id::text, floor(extract(epoch FROM created_at))::bigint,
  (extract(epoch FROM created_at) * 1000000)::bigint;

-- name: kUpdateListingHead
UPDATE listings
SET site_id = $2::uuid, kind = $3, mode = $4, category = $5, title = $6, description = $7,
  tags = ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), lat = $9, lon = $10,
  position_lat = $11, position_lon = $12, grid_lat = $13, grid_lon = $14,
  reach_km = $15, price_minutes = $16, duration_minutes = $17,
  available_from = to_timestamp($18::bigint), available_until = to_timestamp($19::bigint),
  photos = ARRAY(SELECT jsonb_array_elements_text($20::jsonb)), status = $21,
  exchange_id = $22::uuid, acted_by = $23::uuid, deposit_minutes = $24, capacity = $25,
  visibility = $26, updated_at = now()
WHERE id = $1
RETURNING;

-- name: kFindListing
FROM listings
WHERE id = $1;

-- name: kListTail
-- One statement for every filter combination: an absent filter is a NULL parameter, folded
-- away by the planner (parameters are bound per execution, so each gets its own plan).
-- The distance is computed between snapped points: nothing finer than the grid leaks.
-- A linked community's listing ($18: the reader's active partners) comes only when it crosses
-- (exchange/listing.hpp: visible_to_community): federation or public, active, near the point
-- given, within the radius and within its own reach.
, d.distance_m
FROM listings
CROSS JOIN LATERAL (SELECT CASE WHEN $10::float8 IS NULL THEN NULL ELSE 2 * 6371008.8 *
  asin(least(1, sqrt(power(sin(radians(grid_lat - $10) / 2),
  2) + cos(radians($10)) * cos(radians(grid_lat)) * power(sin(radians(grid_lon - $11) / 2),
  2)))) END AS distance_m) d
WHERE (community_id = $1 OR (community_id = ANY($18::uuid[]) AND visibility <> 'community' AND
  status = 'active' AND $10::float8 IS NOT NULL AND d.distance_m <= reach_km * 1000))
  AND status = $2
  AND ($3::text IS NULL OR search @@ websearch_to_tsquery('public.french_unaccent', $3))
  AND ($4::text[] IS NULL OR category = ANY($4::text[]))
  AND ($5::text IS NULL OR kind = $5)
  AND ($6::text IS NULL OR mode = $6)
  AND ($7::uuid IS NULL OR site_id = $7::uuid)
  AND ($8::uuid IS NULL OR member_id = $8::uuid)
  AND ($10::float8 IS NULL OR (grid_lat BETWEEN $10 - $13 AND $10 + $13 AND grid_lon BETWEEN $11 -
    $14 AND $11 + $14 AND d.distance_m <= $12))
  AND ($15::bigint IS NULL OR (created_at, id) < ('epoch'::timestamptz + $15::bigint * interval
    '1 microsecond', $16::uuid))
  AND (NOT (hidden_suspended OR hidden_moderated) OR member_id = $17::uuid)
ORDER BY created_at DESC, id DESC
LIMIT $9;

-- name: kExpiringTail
-- A partner installation's listing (partner_url) ends there: its withdrawal closes the copy.
FROM listings
WHERE status IN ('active', 'paused')
  AND partner_url IS NULL
  AND available_until <= to_timestamp($1)
ORDER BY available_until
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- name: kPrintedQuery
SELECT websearch_to_tsquery('public.french_unaccent', $1)::text;

-- name: kLockMember
-- Standing changes: hiding and showing never touch the status (see 004_member_lifecycle.sql);
-- updated_at moves so that consumers ordering by it (matching) take the new event.
SELECT pg_advisory_xact_lock(hashtext('listing-member:' || $1::text));

-- name: kLockMembers
-- The same lock for every member of a batch, in the order of the keys: two batches never wait
-- for each other in a cycle.
SELECT pg_advisory_xact_lock(k)
FROM (SELECT DISTINCT hashtext('listing-member:' || m) AS k FROM unnest($1::text[]) AS m ORDER BY k)
  AS keys;

-- name: kOwnerStanding
SELECT state
FROM member_standing
WHERE member_id = $1;

-- name: kRecordStanding
INSERT INTO member_standing AS s (member_id, community_id, state, event_at)
VALUES ($1, $2, $3, $4::timestamptz)
ON CONFLICT (member_id)
DO UPDATE SET state = EXCLUDED.state, event_at = EXCLUDED.event_at
WHERE s.state <> 'erased'
  AND (EXCLUDED.state = 'erased' OR s.event_at < EXCLUDED.event_at)
RETURNING state;

-- name: kHideOfMemberHead
UPDATE listings
SET hidden_suspended = true, updated_at = now()
WHERE member_id = $1
  AND status IN ('active', 'paused', 'reserved')
  AND NOT hidden_suspended
  AND partner_url IS NULL
RETURNING;

-- name: kShowOfMemberHead
UPDATE listings
SET hidden_suspended = false, updated_at = now()
WHERE member_id = $1
  AND hidden_suspended
  AND partner_url IS NULL
RETURNING;

-- name: kCloseOfMemberHead
UPDATE listings
SET status = 'closed', acted_by = NULL, updated_at = now()
WHERE member_id = $1
  AND status <> 'closed'
  AND partner_url IS NULL
RETURNING;

-- name: kHideListingHead
UPDATE listings
SET hidden_moderated = true, hidden_report_id = $3::uuid, updated_at = now()
WHERE id = $1
  AND community_id = $2
  AND NOT hidden_moderated
RETURNING;

-- name: kRecordExchangeEnd
-- schemas/offers/060_listing_exchange_ends.sql: a redelivered end is the same end.
INSERT INTO listing_exchange_ends (listing_id, exchange_id)
VALUES ($1::uuid, $2::uuid)
ON CONFLICT DO NOTHING;

-- name: kExchangeEnded
SELECT 1
FROM listing_exchange_ends
WHERE listing_id = $1::uuid
  AND exchange_id = $2::uuid;

-- name: kUpsertPartnerListing
-- A partner installation's listing (federation.listing.shared; schemas/offers/070_partner_
-- listings.sql), its newest revision kept. Never over one of ours, nor over another partner's:
-- the row must be the same partner's copy. Its exact location is unknown: the grid point stands
-- for it. $23: active, or closed (a withdrawal that carries the listing). RETURNING: whether it
-- was written.
INSERT INTO listings AS l (id, member_id, community_id, kind, mode, category, title,
  description, tags, position_lat, position_lon, grid_lat, grid_lon, reach_km, price_minutes,
  duration_minutes, available_from, available_until, status, deposit_minutes, capacity,
  visibility, partner_url, partner_revision, created_at)
SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::text, $7::text, $8::text,
  ARRAY(SELECT jsonb_array_elements_text($9::jsonb)), $10::float8, $11::float8, $10::float8,
  $11::float8, $12::float8, $13::bigint, $14::bigint, $15::timestamptz, $16::timestamptz,
  $23::text, $17::bigint, $18::integer, $19::text, $20::text, $21::bigint,
  least($22::timestamptz, now())
ON CONFLICT (id) DO UPDATE
SET member_id = EXCLUDED.member_id, kind = EXCLUDED.kind, mode = EXCLUDED.mode,
  category = EXCLUDED.category, title = EXCLUDED.title, description = EXCLUDED.description,
  tags = EXCLUDED.tags, position_lat = EXCLUDED.position_lat,
  position_lon = EXCLUDED.position_lon, grid_lat = EXCLUDED.grid_lat,
  grid_lon = EXCLUDED.grid_lon, reach_km = EXCLUDED.reach_km,
  price_minutes = EXCLUDED.price_minutes, duration_minutes = EXCLUDED.duration_minutes,
  available_from = EXCLUDED.available_from, available_until = EXCLUDED.available_until,
  status = EXCLUDED.status, deposit_minutes = EXCLUDED.deposit_minutes,
  capacity = EXCLUDED.capacity,
  visibility = EXCLUDED.visibility, partner_revision = EXCLUDED.partner_revision,
  updated_at = now()
WHERE l.partner_url = EXCLUDED.partner_url
  AND l.community_id = EXCLUDED.community_id
  AND l.partner_revision < EXCLUDED.partner_revision
RETURNING 1;

-- name: kWithdrawPartnerListing
-- A partner's listing that no longer crosses: its copy closed (searches stop showing it).
UPDATE listings
SET status = 'closed', partner_revision = $4, updated_at = now()
WHERE id = $1::uuid
  AND community_id = $2::uuid
  AND partner_url = $3
  AND partner_revision < $4;

-- name: kPartnerListingsOpen
-- How many copies of one partner community's listings are open here: a partner cannot fill our
-- tables without bound.
SELECT count(*)
FROM listings
WHERE community_id = $1::uuid
  AND partner_url IS NOT NULL
  AND status = 'active';
