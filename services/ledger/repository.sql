-- The SQL of services/ledger/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/ledger/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--` lines
-- are comments.
-- namespace: maillon::ledger::repo
-- linkage: file-local

-- name: kSelectTransfers
-- One probe of the primary key (community_id, id) per id asked. Written `WHERE community_id = $1
-- AND id = ANY($2)`, the planner may keep only community_id as the index condition and filter
-- every transfer of the community: it did for a community newer than the table's statistics
-- (which then promise one row), 2.6 ms to find one transfer among 20,000 of its own, growing with
-- them, against 0.1 ms (#22). Each probe below is an equality on both columns, and its LIMIT keeps
-- it a nested loop over the ids, whatever the statistics say (ledger_plans_test.cpp).
SELECT t.*
FROM (SELECT DISTINCT unnest($2::text[]) AS id) AS k
CROSS JOIN LATERAL (
  SELECT id, from_account_id, to_account_id, amount_minutes, pending, timeout_s, kind, memo,
    ref, created_at_us, state, posted_minutes, resolved_at_us
  FROM transfers
  WHERE community_id = $1::uuid
    AND id = k.id
  LIMIT 1
) AS t;

-- name: kLockCommunity
-- Every change of a community's balances and holds happens under this transaction-level lock:
-- one writer per community across all replicas, so accounts are read without row locks (a
-- batch touching thousands of accounts would otherwise write a lock record for each). The
-- two-key form keeps it apart from the runtime's one-key job locks. Then, under that lock, the
-- batch is counted (kCountBatch: each count belongs to one batch) and the policy read. Both
-- go in one round trip, as EXECUTE of statements prepared on the connection
-- (execute_params), since a small batch's time is mostly its round trips.
SELECT pg_advisory_xact_lock(1818584167, hashtext($1::text));

-- name: kCountBatch
UPDATE communities
SET batches = batches + 1
WHERE id = $1::uuid
RETURNING batches, policy::text;

-- name: kSelectAccounts
-- One probe per id, as kSelectTransfers and for the same reason: `community_id = $1 AND id =
-- ANY($2)` let the planner scan the community's accounts (accounts_by_community) and filter
-- them, for a community newer than the statistics.
SELECT a.*
FROM (SELECT DISTINCT unnest($2::text[]) AS id) AS k
CROSS JOIN LATERAL (
  SELECT id, is_community, balance_minutes, pending_debit_minutes, pending_credit_minutes,
    pseudonym IS NOT NULL AS closed
  FROM accounts
  WHERE id = k.id
    AND community_id = $1::uuid
  LIMIT 1
) AS a;

-- name: kUpdateAccounts
UPDATE accounts AS a
SET balance_minutes = v.balance, pending_debit_minutes = v.debit, pending_credit_minutes = v.credit
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
  $6::bigint[], $7::bigint[]) AS v(id, balance, debit, credit, before_balance,
  before_debit, before_credit)
WHERE a.id = ANY($1::text[])
  AND a.id = v.id
  AND a.balance_minutes = v.before_balance
  AND a.pending_debit_minutes = v.before_debit
  AND a.pending_credit_minutes = v.before_credit;

-- name: kInsertTransfers
-- A small batch's new rows go in with these instead of COPY (two round trips each), all its
-- writes sent together in one round trip (write_small_changes).
INSERT INTO transfers (community_id, id, from_account_id, to_account_id, amount_minutes,
  pending, timeout_s, kind, memo, ref, state, posted_minutes, created_at_us,
  resolved_at_us, deadline_us, actor_id)
SELECT $1::uuid, v.*
FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::boolean[],
  $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[],
  $13::bigint[], $14::bigint[], $15::bigint[], $16::text[]) AS v;

-- name: kInsertEntries
-- unnest yields the rows in array order: entry ids (bigserial) follow the ledger's order.
INSERT INTO entries (account_id, transfer_id, amount_minutes, balance_after_minutes, kind,
  ref, counterparty_account_id, at_us)
SELECT *
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
  $7::text[], $8::bigint[]);

-- name: kUpdateTransfers
-- The holds are found as kSelectTransfers finds transfers (one probe of the primary key each,
-- whatever the statistics say), then updated by their row's address. Joined on (community_id,
-- id) instead, the planner chose to read every transfer of a community newer than the statistics.
-- Only writers holding the community's lock (kLockCommunity) change its transfers, so the row
-- found is the row updated; were it not, the update would skip it and the caller's count fail.
UPDATE transfers AS t
SET state = v.state, posted_minutes = v.posted_minutes, resolved_at_us = v.resolved_at_us
FROM (
  SELECT h.state, h.posted_minutes, h.resolved_at_us, found.row_id
  FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS h(id, state,
    posted_minutes, resolved_at_us)
  CROSS JOIN LATERAL (
    SELECT ctid AS row_id
    FROM transfers
    WHERE community_id = $1::uuid
      AND id = h.id
      AND state = 'pending'
    LIMIT 1
  ) AS found
) AS v
WHERE t.ctid = v.row_id
  AND t.state = 'pending';

-- name: kSelectAccount
SELECT id, is_community, balance_minutes, pending_debit_minutes,
  pending_credit_minutes, community_id, COALESCE(pseudonym, '')
FROM accounts
WHERE id = $1;

-- name: kSelectEntries
SELECT e.id, e.account_id, e.transfer_id, e.amount_minutes, e.balance_after_minutes, e.kind,
  e.ref, e.counterparty_account_id, e.at_us, COALESCE(c.pseudonym, '')
FROM entries e
LEFT JOIN accounts c ON c.id = e.counterparty_account_id
WHERE e.account_id = $1
  AND ($2::bigint = 0 OR e.id < $2::bigint)
ORDER BY e.id DESC
LIMIT $3;

-- name: kAuditAccounts
SELECT a.id, a.is_community, a.balance_minutes, a.pending_debit_minutes,
  a.pending_credit_minutes, COALESCE(s.total, 0)::bigint
FROM accounts a
LEFT JOIN (SELECT e.account_id, sum(e.amount_minutes) AS total FROM entries e JOIN accounts x ON
  x.id = e.account_id AND x.community_id = $1 GROUP BY e.account_id) s ON s.account_id = a.id
WHERE a.community_id = $1
ORDER BY a.id;

-- name: kOpenCommunityAccount
INSERT INTO accounts (id, community_id, member_id, is_community)
VALUES ($1, $2, NULL, true)
ON CONFLICT DO NOTHING;

-- name: kOpenMemberAccount
INSERT INTO accounts (id, community_id, member_id, is_community)
VALUES ($1, $2, $3, false)
ON CONFLICT DO NOTHING;

-- name: kCountOutsideBatch
-- A change to an account made outside the writer (an erasure): the community's batch count
-- moves as a batch's would, so that no writer trusts the account it keeps in memory. Before the
-- account's row, in the order a batch takes them (communities, then accounts).
UPDATE communities
SET batches = batches + 1
WHERE id = (SELECT community_id FROM accounts WHERE id = $1);

-- name: kSetPseudonym
UPDATE accounts
SET pseudonym = $2
WHERE id = $1;

-- name: kDueTransfers
SELECT community_id, id
FROM transfers
WHERE state = 'pending'
  AND deadline_us <= $1
ORDER BY deadline_us
LIMIT $2;

-- name: kAllowanceCandidates
SELECT a.id
FROM accounts a
WHERE a.community_id = $1
  AND NOT a.is_community
  AND a.pseudonym IS NULL
  AND a.balance_minutes + a.pending_credit_minutes + $4 <= $5
  AND EXISTS (SELECT 1 FROM entries e WHERE e.account_id = a.id AND e.at_us >= $3 AND e.kind NOT IN
    ('bonus', 'allowance'))
  AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.to_account_id = a.id AND t.kind = 'allowance'
    AND t.ref = $2)
ORDER BY a.id
LIMIT $6;

-- name: kInsertGrant
INSERT INTO grant_reviews (id, community_id, to_account_id, amount_minutes, pending,
  timeout_s, memo, ref, requested_by, requested_site_ids, requested_at_us)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text[], $11)
ON CONFLICT (id) DO NOTHING;

-- name: kSelectGrant
SELECT id, community_id, to_account_id, amount_minutes, pending, timeout_s, memo, ref,
  requested_by, array_to_json(requested_site_ids)::text, requested_at_us,
  state, COALESCE(approved_by::text, ''), COALESCE(approved_at_us, 0)
FROM grant_reviews
WHERE id = $1;

-- name: kMarkGrantApproved
UPDATE grant_reviews
SET state = 'approved', approved_by = $2, approved_at_us = $3
WHERE id = $1
  AND state = 'awaiting_review';

-- name: kListGrants
-- The transfer's existence settles the state: approval creates the transfer, then marks the
-- review, and a crash in between must not leave it on the desk's list.
SELECT g.id, g.community_id, g.to_account_id, g.amount_minutes, g.pending, g.timeout_s,
  g.memo, g.ref, g.requested_by, array_to_json(g.requested_site_ids)::text,
  g.requested_at_us, g.state, COALESCE(g.approved_by::text, ''), COALESCE(g.approved_at_us, 0)
FROM grant_reviews g
WHERE g.community_id = $1
  AND (g.state = 'approved' OR EXISTS (SELECT 1 FROM transfers t WHERE t.community_id =
    g.community_id AND t.id = g.id)) = ($2 = 'approved')
  AND (g.requested_at_us, g.id) > ($3::bigint, $4::text)
ORDER BY g.requested_at_us, g.id
LIMIT $5;

-- name: kLockGrantRequester
-- One staff member's unreviewed grants are counted and written one request at a time.
SELECT pg_advisory_xact_lock(1735289204, hashtext($1::text || ':' || $2::text));

-- name: kSelectUnreviewedGrant
SELECT to_account_id, amount_minutes
FROM unreviewed_grants
WHERE id = $1;

-- name: kSumUnreviewedGrants
SELECT COALESCE(sum(amount_minutes), 0)::bigint,
  COALESCE(sum(amount_minutes) FILTER (WHERE to_account_id = $3), 0)::bigint
FROM unreviewed_grants
WHERE community_id = $1
  AND requested_by = $2
  AND at_us > $4;

-- name: kInsertUnreviewedGrant
INSERT INTO unreviewed_grants (id, community_id, requested_by, to_account_id, amount_minutes,
  at_us)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING;

-- name: kDeleteUnreviewedGrants
-- Grants the writer refused moved nothing: they no longer count.
DELETE FROM unreviewed_grants
WHERE id = ANY($1::text[]);
