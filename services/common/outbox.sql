-- The SQL of services/common/outbox.cpp, one statement per `-- name: <its C++ constant>`. At build
-- time, cmake/sql_queries.cmake turns this file into the header services/common/outbox_sql.hpp,
-- which outbox.cpp includes. Whitespace is free; `--` lines are comments.
-- namespace: maillon
-- linkage: file-local

-- name: kInsertOutbox
INSERT INTO outbox (event_id, stream, payload)
VALUES ($1, $2, $3);

-- name: kOpenRelayPass
-- A relay pass costs two round trips, not five: this one opens the transaction, steers the plan
-- and locks the queue's head (kSelectRelayPass, run as EXECUTE of the statement prepared on the
-- connection: not planned again at every pass); kMarkPublished, then COMMIT, in the second
-- (services/common/outbox.cpp).
-- The SET LOCALs: the relay reads the queue in id order through the partial index. Each
-- published row leaves a dead entry there until VACUUM; a plain index scan marks such entries
-- dead as it passes them, so the next read skips them, but a bitmap scan (what the planner picks
-- from the statistics) does not, and under a steady flow every read then re-visits every row
-- published since the last VACUUM (measured at 500 events/s: 7 ms a read after 10 s, against
-- 0.1 ms). The statement is planned under them: its first run on a connection comes after them,
-- and a plan kept for later runs was made then.
BEGIN;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_seqscan = off;

-- name: kSelectRelayPass
-- $1: MAILLON_RELAY_BATCH.
SELECT id, stream, payload
FROM outbox
WHERE published_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: kMarkPublished
-- $1: the rows published.
UPDATE outbox
SET published_at = now()
WHERE id = ANY($1::bigint[]);

-- name: kRepublishAll
UPDATE outbox
SET published_at = NULL
WHERE published_at IS NOT NULL;

-- name: kDeleteOld
DELETE
FROM outbox
WHERE published_at < now() - interval '7 days';

-- name: kDeleteOldApplied
DELETE
FROM applied_events
WHERE applied_at < now() - interval '30 days';

-- name: kOutboxLag
SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)
FROM outbox
WHERE published_at IS NULL;
