-- The SQL of services/notify/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/notify/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--` lines
-- are comments.
-- namespace: maillon::notify::repo
-- linkage: file-local

-- name: kRecipient
SELECT display_name, CASE WHEN email_verified
  AND NOT erased THEN email END, home_site_id::text
FROM recipients
WHERE member_id = $1;

-- name: kUpsertContact
-- Only a contact at least as new as the one kept ($6: its event's time) changes the row.
INSERT INTO recipients (member_id, community_id, display_name, email, email_verified,
  contact_seen, contact_at)
VALUES ($1, $2::uuid, $3, $4, $5, true, $6::timestamptz)
ON CONFLICT (member_id)
DO UPDATE SET community_id = COALESCE(EXCLUDED.community_id, recipients.community_id),
  display_name = EXCLUDED.display_name, email = EXCLUDED.email,
  email_verified = EXCLUDED.email_verified, contact_seen = true, contact_at = EXCLUDED.contact_at
WHERE recipients.contact_at IS NULL
  OR recipients.contact_at <= EXCLUDED.contact_at;

-- name: kUpsertIdentity
-- $6 (community_admin) NULL: unchanged.
-- A member first known from here: their contact (member.contact) is still to come.
INSERT INTO recipients (member_id, community_id, home_site_id, display_name, staff_site_ids,
  community_admin, contact_seen)
VALUES ($1, $2::uuid, $3::uuid, COALESCE($4, ''), $5::uuid[], COALESCE($6::boolean, false),
  false)
ON CONFLICT (member_id)
DO UPDATE SET community_id = COALESCE(EXCLUDED.community_id, recipients.community_id),
  home_site_id = EXCLUDED.home_site_id, display_name = COALESCE($4,
  recipients.display_name), staff_site_ids = EXCLUDED.staff_site_ids,
  community_admin = COALESCE($6::boolean, recipients.community_admin);

-- name: kEraseRecipient
INSERT INTO recipients (member_id, erased)
VALUES ($1, true)
ON CONFLICT (member_id)
DO UPDATE SET erased = true, email = NULL, email_verified = false, display_name = '';

-- name: kStaffOfSite
SELECT member_id::text
FROM recipients
WHERE staff_site_ids @> ARRAY[$1::uuid]
  AND NOT erased
ORDER BY member_id
LIMIT 200;

-- name: kAdminsOfCommunity
SELECT member_id::text
FROM recipients
WHERE community_id = $1::uuid
  AND community_admin
  AND NOT erased
ORDER BY member_id
LIMIT 200;

-- name: kPreference
SELECT in_app, email
FROM preferences
WHERE member_id = $1
  AND kind = $2;

-- name: kPreferences
SELECT kind, in_app, email
FROM preferences
WHERE member_id = $1;

-- name: kSetPreference
INSERT INTO preferences (member_id, kind, in_app, email)
VALUES ($1, $2, $3, $4)
ON CONFLICT (member_id, kind)
DO UPDATE SET in_app = EXCLUDED.in_app, email = EXCLUDED.email, updated_at = now();

-- name: kStoreToken
INSERT INTO unsubscribe_tokens (token_hash, member_id, kind)
VALUES ($1, $2, $3);

-- name: kToken
SELECT member_id::text, kind
FROM unsubscribe_tokens
WHERE token_hash = $1;

-- name: kListNotifications
SELECT id, seq, type, exchange_id, data::text, to_char(created_at AT TIME ZONE 'UTC',
  'YYYY-MM-DD"T"HH24:MI:SS"Z"'), read_at IS NOT NULL
FROM notifications
WHERE member_id = $1
  AND (NOT $2 OR read_at IS NULL)
  AND ($3::bigint IS NULL OR seq < $3)
ORDER BY seq DESC
LIMIT $4;

-- name: kNotificationsAfter
-- The live stream's poll: for each (member, last id sent), what came after, oldest first. One
-- statement for every stream open in the process, each member on its (member_id, seq) index.
SELECT n.id, n.seq, n.type, n.exchange_id, n.data::text,
  to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  n.read_at IS NOT NULL, c.member_id::text
FROM unnest($1::uuid[], $2::bigint[]) AS c(member_id, after_seq)
CROSS JOIN LATERAL (SELECT * FROM notifications x WHERE x.member_id = c.member_id AND x.seq >
  c.after_seq ORDER BY x.seq LIMIT $3) n
ORDER BY n.seq;

-- name: kLatestNotificationSeq
SELECT COALESCE(max(seq), 0)
FROM notifications
WHERE member_id = $1;

-- name: kMarkRead
UPDATE notifications
SET read_at = COALESCE(read_at, now())
WHERE id = $1
  AND member_id = $2;

-- name: kMarkAllRead
UPDATE notifications
SET read_at = now()
WHERE member_id = $1
  AND read_at IS NULL;

-- name: kAddDigestItem
INSERT INTO digest_items (id, member_id, kind, line, link, created_at)
VALUES ($1, $2, $3, $4, $5, to_timestamp($6))
ON CONFLICT (id) DO NOTHING
RETURNING id;

-- name: kParisDay
SELECT to_char(to_timestamp($1) AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD');

-- name: kDigestGroupsDue
-- Members and kinds with items of the days before, whose digest of the day $2 is not queued yet
-- (its dedup key, digest_key() in jobs.cpp): an item arriving after that digest waits for the
-- next day's.
SELECT DISTINCT d.member_id::text, d.kind
FROM digest_items d
WHERE NOT d.sent
  AND d.created_at < (date_trunc('day', to_timestamp($1) AT TIME ZONE 'Europe/Paris') AT TIME ZONE
    'Europe/Paris')
  AND NOT EXISTS (SELECT 1 FROM mail_queue q WHERE q.dedup_key = 'digest:' || d.member_id::text ||
    ':' || d.kind || ':' || $2)
LIMIT $3;

-- name: kDigestItems
SELECT id::text, member_id::text, kind, line, link
FROM digest_items
WHERE member_id = $1
  AND kind = $2
  AND NOT sent
  AND created_at < (date_trunc('day', to_timestamp($3) AT TIME ZONE 'Europe/Paris') AT TIME ZONE
    'Europe/Paris')
ORDER BY created_at, id
LIMIT $4;

-- name: kMarkDigestSent
UPDATE digest_items
SET sent = true
WHERE id = ANY($1::uuid[]);

-- name: kUpsertListing
INSERT INTO listings (id, side, member_id, title, site_id)
VALUES ($1, $2, $3, $4, $5::uuid)
ON CONFLICT (id)
DO UPDATE SET member_id = EXCLUDED.member_id, title = EXCLUDED.title, site_id = EXCLUDED.site_id;

-- name: kListing
SELECT id::text, side, member_id::text, title, site_id::text
FROM listings
WHERE id = $1;

-- name: kUpsertLoan
INSERT INTO exchange_loans (exchange_id, provider_id, receiver_id, site_id, due_at)
VALUES ($1, $2::uuid, $3::uuid, $4::uuid, $5::timestamptz)
ON CONFLICT (exchange_id)
DO UPDATE SET due_at = EXCLUDED.due_at, provider_id = COALESCE(EXCLUDED.provider_id,
  exchange_loans.provider_id), receiver_id = COALESCE(EXCLUDED.receiver_id,
  exchange_loans.receiver_id), site_id = COALESCE(EXCLUDED.site_id, exchange_loans.site_id);

-- name: kCloseLoan
UPDATE exchange_loans
SET open = false
WHERE exchange_id = $1;

-- name: kLoansDue
SELECT exchange_id::text, provider_id::text, receiver_id::text, site_id::text,
  to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM exchange_loans
WHERE open
  AND due_at > to_timestamp($1)
  AND due_at <= to_timestamp($2)
ORDER BY due_at
LIMIT $3;

-- name: kUpsertReservation
INSERT INTO reservations (item_id, member_id, site_id, title, reserved_until)
VALUES ($1, $2, $3::uuid, $4, $5::timestamptz)
ON CONFLICT (item_id)
DO UPDATE SET member_id = EXCLUDED.member_id, site_id = EXCLUDED.site_id,
  title = EXCLUDED.title, reserved_until = EXCLUDED.reserved_until;

-- name: kDropReservation
DELETE
FROM reservations
WHERE item_id = $1;

-- name: kReservationsEnding
SELECT item_id::text, member_id::text, site_id::text, title,
  to_char(reserved_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM reservations
WHERE reserved_until > to_timestamp($1)
  AND reserved_until <= to_timestamp($2)
ORDER BY reserved_until
LIMIT $3;

-- name: kOpenDispute
INSERT INTO disputes (exchange_id, site_id, opened_at)
VALUES ($1, $2::uuid, to_timestamp($3))
ON CONFLICT (exchange_id)
DO UPDATE SET resolved = false;

-- name: kResolveDispute
UPDATE disputes
SET resolved = true
WHERE exchange_id = $1;

-- name: kAddressee
-- What telling a member needs, in one round trip: their preference for the kind (NULLs: none
-- set), whether they are known here, their name, verified address and home site, and whether a
-- mail to them may still find a verified address: not known here yet, their contact not read
-- yet, or an address awaiting its verification (080_mails_awaiting_address.sql). In the same
-- round trip, the notice goes to their inbox when they read this kind in the app ($3: whether
-- they do when they chose nothing): the last column says whether it was written now (false: told
-- before, or not for the app). $4: the notice's id; $5, $6, $7: its type, exchange and data.
-- A member with no verified address yet, when one may come, is locked for the rest of the
-- transaction (kLockAddress's lock, shared: notices never wait for each other, nor take part in a
-- deadlock, as two transactions telling the same two members in turn would): see kAwaitAddress.
WITH a AS (
  SELECT p.in_app, p.email, r.member_id IS NOT NULL AS known, r.display_name,
    CASE WHEN r.email_verified AND NOT r.erased THEN r.email END AS verified_email,
    r.home_site_id::text AS home_site_id, COALESCE(NOT r.erased AND (NOT r.contact_seen
    OR (r.email IS NOT NULL AND NOT r.email_verified)), true) AS address_may_come
  FROM (VALUES (1)) AS one (x)
  LEFT JOIN preferences p ON p.member_id = $1::uuid AND p.kind = $2
  LEFT JOIN recipients r ON r.member_id = $1::uuid
),
inbox AS (
  INSERT INTO notifications (id, member_id, type, kind, exchange_id, data)
  SELECT $4::uuid, $1::uuid, $5, $2, $6::uuid, $7::jsonb
  FROM a
  WHERE COALESCE(a.in_app, $3::boolean)
  ON CONFLICT (id) DO NOTHING
  RETURNING seq
),
awaited AS (
  SELECT pg_advisory_xact_lock_shared(hashtext('notify-address:' || $1::text))
  FROM a
  WHERE a.verified_email IS NULL AND a.address_may_come
)
SELECT a.*, EXISTS (SELECT FROM inbox), (SELECT count(*) FROM awaited)
FROM a;

-- name: kLockAddress
-- A member's awaited address: a notice that would wait for it (read from the matches or exchanges
-- streams; kAddressee takes the lock, shared) and the contact that brings it or the erasure that
-- forgets it (the members stream, read apart; this statement, exclusive) each hold this lock, then
-- read in a later statement (one that sees what committed before the lock was theirs), so that
-- neither misses the other's row.
SELECT pg_advisory_xact_lock(hashtext('notify-address:' || $1::text));

-- name: kAwaitAddress
-- Under the lock kAddressee took: the member as they are now (kRecipient's columns, then whether
-- they were erased), and the notice kept for their address only when they still have no verified
-- one and were not erased meanwhile.
WITH r AS (
  SELECT display_name, CASE WHEN email_verified AND NOT erased THEN email END AS email,
    home_site_id::text, erased
  FROM recipients
  WHERE member_id = $2::uuid
),
kept AS (
  INSERT INTO mails_awaiting_address (notice_id, member_id, notice)
  SELECT $1::uuid, $2::uuid, $3::jsonb
  WHERE NOT EXISTS (SELECT FROM r WHERE r.email IS NOT NULL OR r.erased)
  ON CONFLICT (notice_id) DO NOTHING
)
SELECT *
FROM r;

-- name: kTakeAwaiting
-- The member's mails that waited for their address, less than a day old, oldest first; taken
-- (deleted) with the ones past that.
WITH taken AS (
  DELETE FROM mails_awaiting_address
  WHERE member_id = $1::uuid
  RETURNING notice, created_at
)
SELECT notice::text
FROM taken
WHERE created_at >= now() - interval '1 day'
ORDER BY created_at;

-- name: kDropStaleAwaiting
DELETE FROM mails_awaiting_address
WHERE created_at < now() - interval '1 day';

-- name: kForgetAwaiting
DELETE FROM mails_awaiting_address
WHERE member_id = $1::uuid;
