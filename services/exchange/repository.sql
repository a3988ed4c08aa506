-- The SQL of services/exchange/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/exchange/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon::exchange::repo
-- linkage: file-local

-- name: kExchangeColumns
-- The community's policy comes with the row (NULL: a community not heard of yet): whoever loads
-- an exchange applies its policy next, and that was one more round trip each time (a poll of
-- GET /v1/exchanges/{id}, every action).
SELECT id, community_id, offer_id, request_id, match_id,
  to_char(scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  message, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), seq,
  doc::text, partner_community_id, partner_url, mirror, mirror_version,
  (SELECT c.policy::text FROM communities c WHERE c.id = exchanges.community_id)
FROM exchanges;

-- name: kInsertExchange
INSERT INTO exchanges (id, community_id, state, provider_id, receiver_id, site_id,
  offer_id, request_id, match_id, scheduled_at, message, proposed_at, doc, mode, starts_at,
  due_at, partner_community_id, partner_url)
VALUES ($1, $2, $3, $4, $5, $6::uuid, $7::uuid, $8::uuid, $9::uuid, $10::timestamptz,
  $11, to_timestamp($12), $13::jsonb, $14, to_timestamp($15::bigint),
  to_timestamp($16::bigint), $17::uuid, $18);

-- name: kUpsertMirror
-- The mirror of an exchange living at a partner installation, at a newer version than the one
-- kept (a state read late or twice changes nothing); never over an exchange of ours, nor over
-- another installation's mirror. No row back: nothing written.
INSERT INTO exchanges AS e (id, community_id, state, provider_id, receiver_id, site_id,
  offer_id, request_id, match_id, scheduled_at, message, proposed_at, doc, mode, starts_at,
  due_at, partner_community_id, partner_url, mirror, mirror_version)
VALUES ($1, $2, $3, $4, $5, NULL, $6::uuid, $7::uuid, $8::uuid, $9::timestamptz, $10,
  to_timestamp($11), $12::jsonb, $13, to_timestamp($14::bigint), to_timestamp($15::bigint),
  $16::uuid, $17, true, $18)
ON CONFLICT (id) DO UPDATE
SET state = EXCLUDED.state, doc = EXCLUDED.doc, due_at = EXCLUDED.due_at,
  starts_at = EXCLUDED.starts_at, scheduled_at = EXCLUDED.scheduled_at,
  mirror_version = EXCLUDED.mirror_version, updated_at = now()
WHERE e.mirror AND e.partner_url = EXCLUDED.partner_url
  AND e.community_id = EXCLUDED.community_id AND e.provider_id = EXCLUDED.provider_id
  AND e.receiver_id = EXCLUDED.receiver_id AND e.mirror_version < EXCLUDED.mirror_version
RETURNING id;

-- name: kSaveExchange
UPDATE exchanges
SET state = $2, doc = $3::jsonb, due_at = to_timestamp($4::bigint), updated_at = now()
WHERE id = $1
RETURNING to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- name: kFindExchange
WHERE id = $1;

-- name: kFindExchangeLocked
WHERE id = $1
FOR UPDATE;

-- name: kListExchanges
WHERE (($3::text IS NULL AND (provider_id = $1 OR receiver_id = $1)) OR ($3 = 'provider' AND
  provider_id = $1) OR ($3 = 'receiver' AND receiver_id = $1))
  AND ($2::text IS NULL OR state = $2)
  AND ($4::bigint IS NULL OR seq < $4)
ORDER BY seq DESC
LIMIT $5;

-- name: kDeskDueToday
-- The desk's days are the sites' days: Europe/Paris local dates (PostgreSQL's tz database turns
-- local midnights into instants, 23- and 25-hour days included).
WHERE site_id = $1
  AND state IN ('proposed', 'accepting', 'accepted')
  AND scheduled_at >= date_trunc('day', now() AT TIME ZONE 'Europe/Paris') AT TIME ZONE
    'Europe/Paris'
  AND scheduled_at < (date_trunc('day', now() AT TIME ZONE 'Europe/Paris') + interval '1 day') AT
    TIME ZONE 'Europe/Paris'
ORDER BY scheduled_at
LIMIT $2;

-- name: kDeskDisputed
-- Its own site's, and those with no site whose desk site (Exchange::desk_site_id) is this one
-- (index exchanges_desk_disputes).
WHERE state = 'disputed'
  AND (site_id = $1::uuid OR (site_id IS NULL AND doc->>'desk_site_id' = $1::text))
ORDER BY updated_at
LIMIT $2;

-- name: kDeskOverdue
-- Accepted exchanges whose date has passed without both confirmations: someone must call.
-- Also exchanges both parties confirmed whose posting the ledger has not answered for a while
-- (a command lost or dead-lettered): the provider is not paid yet and only staff can see why.
WHERE site_id = $1
  AND ((state = 'accepted' AND scheduled_at < date_trunc('day',
    now() AT TIME ZONE 'Europe/Paris') AT TIME ZONE 'Europe/Paris') OR (state = 'completing' AND
    updated_at < to_timestamp($3) - make_interval(secs => $4)))
ORDER BY COALESCE(scheduled_at, updated_at)
LIMIT $2;

-- name: kExpirable
SELECT e.id
FROM exchanges e
LEFT JOIN communities c ON c.id = e.community_id
WHERE e.state = 'proposed'
  AND NOT e.mirror
  AND e.proposed_at + make_interval(days => COALESCE((c.policy->>'proposal_days')::int,
    $2)) <= to_timestamp($3)
ORDER BY e.proposed_at
LIMIT $1
FOR UPDATE OF e SKIP LOCKED;

-- name: kOpenExchangesOfMember
SELECT id
FROM exchanges
WHERE (provider_id = $1 OR receiver_id = $1)
  AND state IN ('proposed', 'accepting', 'accepted')
  AND NOT mirror
ORDER BY seq
LIMIT $2
FOR UPDATE;

-- name: kOpenMirrorsOfMember
-- Mirrors of exchanges living at a partner installation where the member takes part and that
-- were not handed over yet: what the member's departure asks that installation to cancel.
SELECT id
FROM exchanges
WHERE (provider_id = $1 OR receiver_id = $1)
  AND state IN ('proposed', 'accepting', 'accepted')
  AND mirror
ORDER BY seq
LIMIT $2;

-- name: kLateLoans
SELECT id
FROM exchanges
WHERE state = 'handed_over'
  AND NOT mirror
  AND due_at <= to_timestamp($2)
ORDER BY due_at
LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: kHasLateLoan
SELECT EXISTS (SELECT 1 FROM exchanges WHERE receiver_id = $1 AND state = 'late')
  OR EXISTS (SELECT 1 FROM depot_late_loans WHERE member_id = $1);

-- name: kRecordDepotLate
INSERT INTO depot_late_loans (item_id, member_id, due_at)
VALUES ($1, $2, $3::timestamptz)
ON CONFLICT (item_id)
DO UPDATE SET member_id = EXCLUDED.member_id, due_at = EXCLUDED.due_at;

-- name: kForgetDepotLate
DELETE
FROM depot_late_loans
WHERE item_id = $1;

-- name: kBook
INSERT INTO bookings (exchange_id, offer_id, member_id, during)
VALUES ($1, $2, $3, tstzrange(to_timestamp($4), to_timestamp($5), '[)'))
ON CONFLICT (exchange_id)
DO UPDATE SET during = EXCLUDED.during, active = true;

-- name: kReleaseBooking
UPDATE bookings
SET active = false
WHERE exchange_id = $1
  AND active;

-- name: kBusyRanges
SELECT b.exchange_id, to_char(lower(b.during) AT TIME ZONE 'UTC',
  'YYYY-MM-DD"T"HH24:MI:SS"Z"'), to_char(upper(b.during) AT TIME ZONE 'UTC',
  'YYYY-MM-DD"T"HH24:MI:SS"Z"'), e.state
FROM bookings b
JOIN exchanges e ON e.id = b.exchange_id
WHERE b.offer_id = $1
  AND b.active
  AND b.during && tstzrange(to_timestamp($2), to_timestamp($3), '[)')
ORDER BY lower(b.during)
LIMIT $4;

-- name: kRunningOnOffer
-- The states of exchanges_running_on_offer (schemas/exchange/005_capacity.sql), its index.
SELECT count(*)
FROM exchanges
WHERE offer_id = $1
  AND ($2::uuid IS NULL OR id <> $2)
  AND state IN ('accepting', 'accepted', 'completing');

-- name: kLockListing
SELECT 1
FROM listings
WHERE id = $1
FOR UPDATE;

-- name: kCalendarExchanges
WHERE (provider_id = $1 OR receiver_id = $1)
  AND state NOT IN ('declined', 'expired')
ORDER BY seq DESC
LIMIT $2;

-- name: kCalendarToken
-- A new token only when asked (renew) or when the member has none.
INSERT INTO calendar_tokens (member_id, token)
VALUES ($1, $2)
ON CONFLICT (member_id)
DO UPDATE SET token = CASE WHEN $3 THEN EXCLUDED.token ELSE calendar_tokens.token END,
  created_at = CASE WHEN $3 THEN now() ELSE calendar_tokens.created_at END
RETURNING token;

-- name: kCalendarMember
SELECT member_id
FROM calendar_tokens
WHERE token = $1;

-- name: kRevokeCalendar
DELETE
FROM calendar_tokens
WHERE member_id = $1;

-- name: kMarkMemberErased
INSERT INTO erased_members (member_id)
VALUES ($1)
ON CONFLICT DO NOTHING;

-- name: kUpsertListing
INSERT INTO listings (id, side, member_id, community_id, site_id, price_minutes, status,
  mode, deposit_minutes, capacity, revision, visibility)
VALUES ($1, $2, $3, $4, $5::uuid, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id)
DO UPDATE SET site_id = EXCLUDED.site_id, visibility = EXCLUDED.visibility,
  price_minutes = EXCLUDED.price_minutes, status = EXCLUDED.status,
  mode = COALESCE(EXCLUDED.mode, listings.mode), deposit_minutes = EXCLUDED.deposit_minutes,
  capacity = EXCLUDED.capacity, revision = EXCLUDED.revision
WHERE listings.revision IS NULL
  OR EXCLUDED.revision IS NULL
  OR listings.revision < EXCLUDED.revision;

-- name: kCloseListing
-- An older closing read late (its revision below the copy's) changes nothing.
UPDATE listings
SET status = 'closed', revision = COALESCE($2, revision)
WHERE id = $1
  AND (revision IS NULL OR $2::bigint IS NULL OR revision < $2::bigint);

-- name: kFindListing
SELECT id, side, member_id, community_id, site_id, price_minutes, status, mode,
  deposit_minutes, capacity, visibility
FROM listings
WHERE id = $1;

-- name: kUpsertMatch
INSERT INTO matches (id, offer_id, request_id)
VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING;

-- name: kFindMatch
SELECT offer_id, request_id
FROM matches
WHERE id = $1;

-- name: kRecordTransfer
INSERT INTO transfers (transfer_id, exchange_id, state, minutes, reason)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (transfer_id)
DO UPDATE SET state = EXCLUDED.state, minutes = COALESCE(EXCLUDED.minutes,
  transfers.minutes), reason = EXCLUDED.reason, updated_at = now();

-- name: kOutboxHas
SELECT 1
FROM outbox
WHERE event_id = $1;

-- name: kFederationHeadroom
SELECT state, headroom_minutes
FROM ledger.federation_headroom($1::uuid, $2::uuid);

-- name: kHomeSiteIn
-- The members service's published reading of a member (the one sessions use).
SELECT NULLIF(i->>'home_site_id', '')
FROM (SELECT members.member_identity($1::uuid)::jsonb AS i) m
WHERE i->>'community_id' = $2::text;

-- name: kInsertMessage
INSERT INTO messages (id, exchange_id, author_id, acting_staff_id, body)
VALUES (gen_random_uuid(), $1, $2, $3::uuid, $4)
RETURNING id, seq, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- name: kListMessages
SELECT m.id, m.seq, m.author_id, m.acting_staff_id, m.body,
  to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), e.member_id IS NOT NULL
FROM messages m
LEFT JOIN erased_members e ON e.member_id = m.author_id
WHERE m.exchange_id = $1
  AND ($2::bigint IS NULL OR m.seq > $2)
ORDER BY m.seq
LIMIT $3;

-- name: kHasRated
SELECT 1
FROM ratings
WHERE exchange_id = $1
  AND rater_id = $2;

-- name: kInsertRating
INSERT INTO ratings (exchange_id, rater_id, rated_id, stars, comment, acting_staff_id)
VALUES ($1, $2, $3, $4, $5, $6::uuid)
ON CONFLICT DO NOTHING
RETURNING to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- name: kHoldingListing
-- The states in which an exchange holds its given listings (reserved until it ends: a dispute
-- keeps them until resolved), on the indexes of schemas/exchange/060_listing_holders.sql.
SELECT (SELECT count(*) FROM exchanges WHERE offer_id = $1::uuid AND id <> $2::uuid AND state IN
  ('accepting', 'accepted', 'completing', 'disputed')) + (SELECT count(*) FROM exchanges WHERE mode
  = 'swap' AND doc->>'given_offer_id' = $1::text AND id <> $2::uuid AND state IN ('accepting',
  'accepted', 'completing', 'disputed'));
