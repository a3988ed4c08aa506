-- The SQL of services/common/mail.cpp, one statement per `-- name: <its C++ constant>`. At build
-- time, cmake/sql_queries.cmake turns this file into the header services/common/mail_sql.hpp, which
-- mail.cpp includes. Whitespace is free; `--` lines are comments.
-- namespace: maillon::mail
-- linkage: file-local

-- name: kInsert
INSERT INTO {schema}.mail_queue (dedup_key, message_id, recipient, kind, subject,
  body_text, body_html, unsubscribe_url)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id;

-- name: kOtherOwners
-- The other owners of rows "sending": each is dead (or lost its connection) if we can take its
-- owner lock, which a live sender holds for its session's life.
SELECT DISTINCT owner_key
FROM {schema}.mail_queue
WHERE state = 'sending'
  AND owner_key IS NOT NULL
  AND owner_key <> $1;

-- name: kRecover
-- The rows of a dead owner (its lock held by us meanwhile) go back to the queue with their
-- Message-ID. Matching on the owner, not on "nobody holds its lock" read from pg_locks: a row
-- recovered and taken again by a live sender in between has another owner and is left alone
-- (with a NOT EXISTS over pg_locks, two senders recovering at once each put the same dead
-- sender's batch back, the second after the first's rows were taken again: each row of it was
-- sent twice).
-- sent_at set while "sending": the whole message, final dot aside, had left when the sender died,
-- so the relay has it (a resend would be the duplicate); unset: it never had it.
-- A row recovered as sent loses its text as kMarkSent's does.
UPDATE {schema}.mail_queue m
SET state = CASE WHEN m.sent_at IS NULL THEN 'pending' ELSE 'sent' END, owner_key = NULL,
  attempt_id = CASE WHEN m.sent_at IS NULL THEN NULL ELSE m.attempt_id END,
  body_text = CASE WHEN m.sent_at IS NULL THEN m.body_text ELSE '' END,
  body_html = CASE WHEN m.sent_at IS NULL THEN m.body_html ELSE '' END,
  unsubscribe_url = CASE WHEN m.sent_at IS NULL THEN m.unsubscribe_url ELSE '' END
WHERE m.state = 'sending'
  AND m.owner_key = $1;

-- name: kLastChunk
-- Sent without waiting for its reply (a pipeline): on the wire before the last chunk, so that a
-- process killed between the two leaves a stamped row only if the final dot left too, micro-
-- seconds later, never one whose stamp committed while the message stayed here.
UPDATE {schema}.mail_queue
SET sent_at = now()
WHERE id = {id}
  AND attempt_id = {attempt};

-- name: kClaim
WITH due AS (SELECT id FROM {schema}.mail_queue WHERE state = 'pending' AND next_attempt_at <=
  $2::timestamptz ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) UPDATE
  {schema}.mail_queue m
SET state = 'sending', owner_key = $1, attempt_id = gen_random_uuid(), attempts = m.attempts + 1
FROM due
WHERE m.id = due.id
RETURNING m.id, m.attempt_id, m.message_id, m.recipient, m.kind, m.subject,
  m.body_text, m.body_html, m.unsubscribe_url, m.attempts, m.permanent_failures;

-- name: kMarkSent
-- A sent mail keeps its row (its dedup_key stops a second copy), not its text: the bodies carry
-- the links' tokens (a password reset's, an address's verification) and a member's words, which
-- a copy in the database would outlive their purpose.
UPDATE {schema}.mail_queue
SET state = 'sent', sent_at = now(), owner_key = NULL, last_error = NULL, body_text = '',
  body_html = '', unsubscribe_url = ''
WHERE id = $1
  AND attempt_id = $2;

-- name: kRetryLater
UPDATE {schema}.mail_queue
SET state = 'pending', owner_key = NULL, attempt_id = NULL, sent_at = NULL,
  next_attempt_at = $3::timestamptz, last_error = $4, permanent_failures = permanent_failures + $5
WHERE id = $1
  AND attempt_id = $2;

-- name: kPark
UPDATE {schema}.mail_queue
SET state = 'parked', owner_key = NULL, sent_at = NULL, last_error = $3,
  permanent_failures = permanent_failures + 1
WHERE id = $1
  AND attempt_id = $2;

-- name: kRelease
-- Not tried (the relay failed on an earlier row of the batch): the claim's attempt is taken
-- back, or a row would come out of an outage with the back-off of every round it waited through.
UPDATE {schema}.mail_queue
SET state = 'pending', owner_key = NULL, attempt_id = NULL, sent_at = NULL,
  attempts = GREATEST(attempts - 1, 0)
WHERE id = $1
  AND attempt_id = $2;

-- name: kDepth
SELECT count(*), COALESCE(EXTRACT(EPOCH FROM $1::timestamptz - min(created_at)), 0)
FROM {schema}.mail_queue
WHERE state IN ('pending', 'sending');
