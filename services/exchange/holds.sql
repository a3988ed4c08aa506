-- The SQL of services/exchange/holds.cpp, one statement per `-- name: <its C++ constant>`. At build
-- time, cmake/sql_queries.cmake turns this file into the header services/exchange/holds_sql.hpp,
-- which holds.cpp includes. Whitespace is free; `--` lines are comments.
-- namespace: maillon::exchange
-- linkage: file-local

-- name: kHoldColumns
-- The position counts the holds still queued up to this one (1: the first).
SELECT id, offer_id, member_id, community_id, state,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char(ready_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char(pickup_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), exchange_id,
  CASE WHEN state IN ('waiting', 'ready') THEN (SELECT count(*) FROM holds q WHERE q.offer_id =
  h.offer_id AND q.state IN ('waiting', 'ready') AND q.seq <= h.seq) ELSE 0 END,
  COALESCE((SELECT l.title FROM listings l WHERE l.id = h.offer_id), '')
FROM holds h;

-- name: kFindHold
WHERE id = $1;

-- name: kFindHoldLocked
WHERE id = $1
FOR UPDATE;

-- name: kQueue
WHERE offer_id = $1
  AND state IN ('waiting', 'ready')
ORDER BY seq
LIMIT $2;

-- name: kReadyHold
WHERE offer_id = $1
  AND state = 'ready';

-- name: kHoldsOfMember
WHERE member_id = $1
  AND state IN ('waiting', 'ready')
ORDER BY seq
LIMIT $2;

-- name: kInsertHold
-- A second join of the same member (or two at once) meets the partial unique index: no row.
INSERT INTO holds (id, offer_id, member_id, community_id, created_at)
VALUES ($1, $2, $3, $4, to_timestamp($5))
ON CONFLICT DO NOTHING
RETURNING id;

-- name: kQueueLength
SELECT count(*)
FROM holds
WHERE offer_id = $1
  AND state IN ('waiting', 'ready');

-- name: kEndHold
UPDATE holds
SET state = $2, ended_at = to_timestamp($3)
WHERE id = $1;

-- name: kLinkProposal
-- The ready hold of the member who asks to borrow names their proposal; it stays ready (first in
-- the queue, its window running) until the owner accepts: a declined proposal costs no place.
UPDATE holds
SET exchange_id = $3
WHERE offer_id = $1
  AND member_id = $2
  AND state = 'ready';

-- name: kFulfil
UPDATE holds
SET state = 'fulfilled', exchange_id = $3, ended_at = to_timestamp($4)
WHERE offer_id = $1
  AND member_id = $2
  AND state = 'ready';

-- name: kReopen
-- An accepted loan called off before the hand-over gives its member their place back, with what
-- is left of their window (the job expires it if nothing is): the object was never theirs. Not
-- when someone else was told meanwhile or the member queues again.
UPDATE holds h
SET state = 'ready', ended_at = NULL
WHERE h.exchange_id = $1
  AND h.state = 'fulfilled'
  AND NOT EXISTS (SELECT 1 FROM holds o WHERE o.offer_id = h.offer_id AND (o.state = 'ready' OR
    (o.member_id = h.member_id AND o.state = 'waiting')));

-- name: kNoteTitle
-- The listing copy's title, for the holds' answers: an older event read late (below the copy's
-- revision) leaves it; the copy's other columns are the listing consumer's (repository.cpp).
UPDATE listings
SET title = $2
WHERE id = $1
  AND title IS DISTINCT
FROM $2
  AND (revision IS NULL OR $3::bigint IS NULL OR revision <= $3::bigint);

-- name: kRunningLoanBorrower
-- From the accept to the return, the object is promised or out.
SELECT receiver_id
FROM exchanges
WHERE offer_id = $1
  AND mode = 'lend'
  AND state IN ('accepting', 'accepted', 'completing', 'handed_over', 'late')
ORDER BY seq DESC
LIMIT 1;

-- name: kSiteHours
SELECT opening_hours
FROM sites
WHERE id = $1;

-- name: kCandidateDays
-- The due date and the next days at the same Europe/Paris local time (PostgreSQL's tz database:
-- a day across a clock change is 23 or 25 hours): local date, ISO weekday (1: Monday), instant.
SELECT to_char(l, 'YYYY-MM-DD'), extract(isodow FROM l)::int,
  extract(epoch FROM l AT TIME ZONE 'Europe/Paris')::bigint
FROM (SELECT (to_timestamp($1) AT TIME ZONE 'Europe/Paris') + make_interval(days => d) AS l FROM
  generate_series(0, $2) AS d) AS days
ORDER BY l;
