-- The SQL of services/ledger/federation_repository.cpp, one statement per `-- name: <its C++
-- constant>`. At build time, cmake/sql_queries.cmake turns this file into the header
-- services/ledger/federation_repository_sql.hpp, which federation_repository.cpp includes.
-- Whitespace is free; `--` lines are comments.
-- namespace: maillon::ledger::federation::repo
-- linkage: file-local

-- name: kLinkColumns
-- Rates travel as integers (millionths): the numeric column is multiplied out in SQL, so no
-- floating point ever holds one. Times as microseconds since the epoch; keys as hex.
id::text, community_id::text, partner_community_id::text, partner_url, state,
  proposed_by_us, debit_limit_minutes, credit_limit_minutes,
  round(rate * 1000000)::bigint, encode(partner_public_key, 'hex'),
  (extract(epoch FROM created_at) * 1000000)::bigint,
  (extract(epoch FROM updated_at) * 1000000)::bigint,
  suspended_by_us, suspended_by_partner, accepted, suspension_seq, partner_suspension_seq;

-- name: kCountLinksOf
SELECT count(*)
FROM federation_links
WHERE community_id = $1::uuid;

-- name: kInsertLink
-- ON CONFLICT DO NOTHING settles both races (the same id twice, a second link for the pair).
INSERT INTO federation_links (id, community_id, partner_community_id, partner_url,
  state, proposed_by_us, debit_limit_minutes, credit_limit_minutes, rate)
VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9::numeric / 1000000)
ON CONFLICT DO NOTHING;

-- name: kUpdatePartnerKey
UPDATE federation_links
SET partner_public_key = decode($3, 'hex'), updated_at = now()
WHERE id = $1::uuid
  AND community_id = $2::uuid;

-- name: kLockLink
SELECT 1
FROM federation_links
WHERE id = $1::uuid
ORDER BY community_id
FOR UPDATE;

-- name: kOpenClearingAccount
INSERT INTO accounts (id, community_id, member_id, is_community)
VALUES ($1, $2::uuid, NULL, true)
ON CONFLICT DO NOTHING;

-- name: kSelectClearingAccount
SELECT id, is_community, balance_minutes, pending_debit_minutes, pending_credit_minutes
FROM accounts
WHERE id = $1;

-- name: kSelectClearingLegs
-- The transfers of a community through one account: the primary key's prefix (the community)
-- bounds the scan; a leg is rare next to a community's own transfers, and this runs for the
-- audit and the reconciliation only, never on a payment's path.
SELECT id, to_account_id = $2, state, amount_minutes, posted_minutes
FROM transfers
WHERE community_id = $1::uuid
  AND (from_account_id = $2 OR to_account_id = $2)
ORDER BY id
LIMIT $3;

-- name: kCommunityName
SELECT name
FROM communities
WHERE id = $1::uuid;

-- name: kLockCommunity
-- The same key as repository.cpp's kLockAndCountBatch: one writer per community.
SELECT pg_advisory_xact_lock(1818584167, hashtext($1));

-- name: kMirrorLegs
-- One probe of the primary key per id, as repository.sql's kSelectTransfers says why.
SELECT CASE WHEN t.from_account_id LIKE 'clearing:%' THEN t.from_account_id
  ELSE t.to_account_id END, t.id
FROM (SELECT DISTINCT unnest($2::text[]) AS id) AS k
CROSS JOIN LATERAL (
  SELECT id, from_account_id, to_account_id
  FROM transfers
  WHERE community_id = $1::uuid
    AND id = k.id
  LIMIT 1
) AS t
WHERE t.from_account_id LIKE 'clearing:%' OR t.to_account_id LIKE 'clearing:%';
