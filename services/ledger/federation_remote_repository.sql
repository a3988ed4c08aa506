-- The SQL of services/ledger/federation_remote_repository.cpp, one statement per `-- name: <its C++
-- constant>`. At build time, cmake/sql_queries.cmake turns this file into the header
-- services/ledger/federation_remote_repository_sql.hpp, which federation_remote_repository.cpp
-- includes. Whitespace is free; `--` lines are comments.
-- namespace: maillon::ledger::remote::repo
-- linkage: file-local

-- name: kInsertKeys
INSERT INTO federation_installation (public_key, secret_key)
VALUES (decode($1, 'base64'), decode($2, 'base64'))
ON CONFLICT DO NOTHING;

-- name: kSelectKeys
-- encode(.., 'base64') wraps lines at 76 characters: the 88 of the secret key would not decode.
SELECT translate(encode(public_key, 'base64'), E'\n', ''), translate(encode(secret_key,
  'base64'), E'\n', '')
FROM federation_installation;

-- name: kInsertMessage
INSERT INTO federation_outbox (message_id, link_id, community_id, partner_community_id,
  partner_url, type, payload, transfer_id, next_attempt_us, created_at_us)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''), $9, $9)
ON CONFLICT DO NOTHING;

-- name: kDueMessages
SELECT message_id::text, link_id::text, community_id::text, partner_community_id::text,
  partner_url, type, payload, COALESCE(transfer_id, ''), attempts
FROM federation_outbox
WHERE state = 'pending'
  AND next_attempt_us <= $1
ORDER BY next_attempt_us
LIMIT $2;

-- name: kMarkAnswered
UPDATE federation_outbox
SET state = 'answered', answer = $2, answered_at_us = $3, attempts = attempts + 1
WHERE message_id = $1
  AND state = 'pending'
RETURNING 1;

-- name: kReschedule
UPDATE federation_outbox
SET attempts = attempts + 1, next_attempt_us = $2, last_error = $3
WHERE message_id = $1
  AND state = 'pending';

-- name: kCancelMessages
UPDATE federation_outbox
SET state = 'cancelled'
WHERE transfer_id = $1
  AND type = $2
  AND state = 'pending';

-- name: kLockMessageId
SELECT pg_advisory_xact_lock(1718969953, hashtext($1));

-- name: kFindReceived
SELECT encode(content_hash, 'hex'), answer
FROM federation_inbox
WHERE message_id = $1;

-- name: kInsertReceived
INSERT INTO federation_inbox (message_id, link_id, type, content_hash, answer, received_at_us)
VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6);

-- name: kTransferColumns
SELECT id, community_id::text, link_id::text, partner_community_id::text,
  role, payer_member_id::text, payee_member_id::text, minutes, partner_minutes, state,
  has_leg, COALESCE(reason, ''), memo, deadline_us, created_at_us, until_told,
  COALESCE(settle_asked, '')
FROM federation_remote_transfers;

-- name: kInsertTransfer
INSERT INTO federation_remote_transfers (id, community_id, link_id, partner_community_id,
  role, payer_member_id, payee_member_id, minutes, partner_minutes, state, has_leg, reason,
  memo, deadline_us, created_at_us, updated_at_us, until_told)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULLIF($12, ''), $13, $14, $15, $15, $16);

-- name: kSetTransferState
UPDATE federation_remote_transfers
SET state = $2, reason = COALESCE(NULLIF($3, ''), reason), updated_at_us = $4
WHERE id = $1;

-- name: kSetSettleAsked
UPDATE federation_remote_transfers
SET settle_asked = $2, updated_at_us = $3
WHERE id = $1;

-- name: kOverdueHolds
SELECT id
FROM federation_remote_transfers
WHERE state = 'holding'
  AND role = 'payer'
  AND deadline_us <= $1
ORDER BY deadline_us
LIMIT $2;

-- name: kRecordReconciliationAlert
-- true: the first run to find this set of differences today (raise it); false: found again.
INSERT INTO federation_reconciliation_alerts AS a (link_id, community_id, day, fingerprint)
VALUES ($1::uuid, $2::uuid, $3::date, $4)
ON CONFLICT (link_id, community_id, day, fingerprint)
DO UPDATE SET last_found_at = now(), runs = a.runs + 1
RETURNING (xmax = 0);
