-- The SQL of services/exchange/holds_jobs.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/exchange/holds_jobs_sql.hpp, which holds_jobs.cpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon::exchange
-- linkage: file-local

-- name: kExpireReady
-- A window that passes while the member's proposal awaits the owner's answer waits for it: the
-- member asked in time. Declined or cancelled, the hold expires at the next run.
UPDATE holds
SET state = 'expired', ended_at = to_timestamp($1)
WHERE id IN (SELECT h.id FROM holds h WHERE h.state = 'ready' AND h.pickup_until <= to_timestamp($1)
  AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.offer_id = h.offer_id AND e.receiver_id =
  h.member_id AND e.mode = 'lend' AND e.state IN ('proposed',
  'accepting')) ORDER BY h.pickup_until LIMIT $2 FOR UPDATE OF h SKIP LOCKED);

-- name: kCancelClosed
-- A closed offer lends nothing any more: its queue is let go.
UPDATE holds h
SET state = 'cancelled', ended_at = to_timestamp($1)
WHERE h.state IN ('waiting', 'ready')
  AND EXISTS (SELECT 1 FROM listings l WHERE l.id = h.offer_id AND l.status = 'closed');

-- name: kOffersToAdvance
-- Objects back (no loan from its accept to its return) whose queue has nobody told yet.
SELECT DISTINCT h.offer_id, h.community_id
FROM holds h
WHERE h.state = 'waiting'
  AND NOT EXISTS (SELECT 1 FROM holds r WHERE r.offer_id = h.offer_id AND r.state = 'ready')
  AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.offer_id = h.offer_id AND e.mode = 'lend' AND
    e.state IN ('accepting', 'accepted', 'completing', 'handed_over', 'late'))
LIMIT $1;

-- name: kLockQueue
-- One replica moves an object's queue at a time; the others skip it this run.
SELECT pg_try_advisory_xact_lock(hashtext('holds:' || $1));

-- name: kHeadWaiting
SELECT id, member_id
FROM holds
WHERE offer_id = $1
  AND state = 'waiting'
ORDER BY seq
LIMIT 1
FOR UPDATE;

-- name: kStillFree
SELECT NOT EXISTS (SELECT 1 FROM holds WHERE offer_id = $1 AND state = 'ready');

-- name: kMakeReady
UPDATE holds
SET state = 'ready', ready_at = to_timestamp($2), pickup_until = to_timestamp($2) +
  make_interval(days => $3::int), freed_by = $4::uuid
WHERE id = $1
RETURNING to_char(pickup_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- name: kLastLoan
SELECT id
FROM exchanges
WHERE offer_id = $1
  AND mode = 'lend'
ORDER BY updated_at DESC, seq DESC
LIMIT 1;

-- name: kLateDue
-- Late loans whose next weekly notice has fallen due: the time stored with the last week told,
-- else the first repeat (exchange/late_notices.hpp: late_notice_at_s(due, 1), passed as $3).
SELECT e.id, extract(epoch FROM e.due_at)::bigint, COALESCE(n.week, 0)
FROM exchanges e
LEFT JOIN LATERAL (SELECT week, next_at FROM loan_late_notices WHERE exchange_id = e.id ORDER BY
  week DESC LIMIT 1) n ON true
WHERE e.state = 'late'
  AND COALESCE(n.next_at, e.due_at + make_interval(secs => $3::bigint)) <= to_timestamp($1::bigint)
ORDER BY e.due_at
LIMIT $2;

-- name: kRecordLateNotice
INSERT INTO loan_late_notices (exchange_id, week, next_at)
VALUES ($1, $2, to_timestamp($3))
ON CONFLICT DO NOTHING
RETURNING week;
