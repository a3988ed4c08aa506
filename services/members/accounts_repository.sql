-- The SQL of services/members/accounts_repository.cpp, one statement per `-- name: <its C++
-- constant>`. At build time, cmake/sql_queries.cmake turns this file into the header
-- services/members/accounts_repository_sql.hpp, which accounts_repository.cpp includes. Whitespace
-- is free; `--` lines are comments.
-- namespace: maillon::members::accounts_repo
-- linkage: file-local

-- name: kInsertToken
INSERT INTO account_tokens (selector, verifier_hash, purpose, member_id, email,
  created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($7));

-- name: kLockToken
SELECT selector, verifier_hash, purpose, member_id, email,
  floor(extract(epoch FROM created_at))::bigint, floor(extract(epoch FROM expires_at))::bigint,
  used_at IS NOT NULL
FROM account_tokens
WHERE selector = $1
FOR UPDATE;

-- name: kSpendTokens
UPDATE account_tokens
SET used_at = to_timestamp($3)
WHERE member_id = $1
  AND purpose = $2
  AND used_at IS NULL;

-- name: kForgetTokens
DELETE
FROM account_tokens
WHERE member_id = $1;

-- name: kMarkVerified
UPDATE members
SET email_verified_at = to_timestamp($3), updated_at = now()
WHERE id = $1
  AND lower(email) = lower($2)
  AND erased_at IS NULL;

-- name: kSetPassword
UPDATE members
SET password_hash = $2, updated_at = now()
WHERE id = $1;

-- name: kEmailInUse
SELECT 1
FROM members
WHERE lower(email) = lower($1)
  AND id <> $2;

-- name: kSetEmail
UPDATE members
SET email = $2, email_verified_at = to_timestamp($3), updated_at = now()
WHERE id = $1
  AND erased_at IS NULL;

-- name: kLiveSessions
SELECT id, token_hash, to_char(created_at AT TIME ZONE 'UTC',
  'YYYY-MM-DD"T"HH24:MI:SS"Z"'), to_char(COALESCE(last_seen_at,
  created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), user_agent
FROM sessions
WHERE member_id = $1
  AND revoked_at IS NULL
  AND expires_at > now()
ORDER BY COALESCE(last_seen_at, created_at) DESC, id
LIMIT $2;

-- name: kRevokeOthers
UPDATE sessions
SET revoked_at = now()
WHERE member_id = $1
  AND token_hash <> $2
  AND revoked_at IS NULL
RETURNING token_hash, GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint;

-- name: kRevokeById
UPDATE sessions
SET revoked_at = now()
WHERE member_id = $1
  AND id = $2::uuid
  AND revoked_at IS NULL
  AND expires_at > now()
RETURNING token_hash, GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint;

-- name: kTouchSession
-- One write a minute at most per session, however often it is used.
UPDATE sessions
SET last_seen_at = now()
WHERE token_hash = $1
  AND revoked_at IS NULL
  AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute');

-- name: kDescribeSession
UPDATE sessions
SET user_agent = NULLIF($2, ''), last_seen_at = now()
WHERE token_hash = $1;
