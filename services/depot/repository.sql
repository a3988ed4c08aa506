-- The SQL of services/depot/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/depot/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--` lines
-- are comments.
-- namespace: maillon::depot
-- linkage: file-local

-- name: kColumns
SELECT id, site_id, community_id, category, title, description, condition, weight_g,
  mode, COALESCE(dropped_by_member_id::text, ''), photos::text, status,
  deposited_at_s, available_since_s, COALESCE(reserved_by_member_id::text, ''),
  reserved_until_s, COALESCE(collected_by_member_id::text, ''), loans_count,
  loan_number, COALESCE(loan_member_id::text, ''), loan_lent_at_s,
  loan_due_at_s, loan_returned_at_s, outlet, partner, deposit_rewarded,
  unclaimed_notified_since_s, loan_reminded_number,
  loan_late_number, COALESCE(ledger_refused_transfer_id, ''), COALESCE(ledger_refused_reason,
  ''), COALESCE(acted_by::text, ''), revision
FROM items;

-- name: kInsertItem
INSERT INTO items (id, site_id, community_id, category, title, description, condition,
  weight_g, mode, dropped_by_member_id, photos, status, deposited_at_s,
  available_since_s, deposit_rewarded, acted_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::uuid, $11::jsonb, $12, $13, $14, $15, $16::uuid);

-- name: kUpdateItem
UPDATE items
SET condition = $2, status = $3, available_since_s = $4,
  reserved_by_member_id = $5::uuid, reserved_until_s = $6,
  collected_by_member_id = $7::uuid, loans_count = $8, loan_number = $9,
  loan_member_id = $10::uuid, loan_lent_at_s = $11, loan_due_at_s = $12,
  loan_returned_at_s = $13, outlet = $14, partner = $15,
  unclaimed_notified_since_s = $16, loan_reminded_number = $17,
  loan_late_number = $18, ledger_refused_transfer_id = $19, ledger_refused_reason = $20,
  acted_by = $21::uuid, revision = revision + 1
WHERE id = $1
RETURNING revision;

-- name: kFindItem
WHERE id = $1;

-- name: kFindItemForUpdate
WHERE id = $1
FOR UPDATE;

-- name: kLockMember
-- Transaction-level: released at commit or rollback, nothing to clean up.
SELECT pg_advisory_xact_lock(hashtext('depot-member:' || $1));

-- name: kReservedBy
WHERE status = 'reserved'
  AND reserved_by_member_id = $1;

-- name: kOpenLoansOf
SELECT loan_number, loan_lent_at_s, loan_due_at_s
FROM items
WHERE status = 'on_loan'
  AND loan_member_id = $1;

-- name: kListItems
-- The status filter reads a reservation past its time as available, as effective_status does.
WHERE site_id = $1
  AND ($2::text IS NULL OR CASE $2::text WHEN 'available' THEN status = 'available' OR (status =
    'reserved' AND reserved_until_s <= $3) WHEN 'reserved' THEN status = 'reserved' AND
    reserved_until_s > $3 WHEN 'unclaimed' THEN mode = 'give' AND available_since_s <= $4 AND
    (status = 'available' OR (status = 'reserved' AND reserved_until_s <= $3)) ELSE status =
    $2::text END)
  AND ($5::text[] IS NULL OR category = ANY($5::text[]))
  AND ($6::text = '' OR id > $6::uuid)
ORDER BY id
LIMIT $7;

-- name: kLapsed
WHERE status = 'reserved'
  AND reserved_until_s <= $1
ORDER BY reserved_until_s
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- name: kUnclaimedCandidates
WHERE status IN ('available', 'reserved')
  AND mode = 'give'
  AND unclaimed_notified_since_s IS DISTINCT
FROM available_since_s
  AND available_since_s <= $1 - 86400 * (SELECT (policy->>'unclaimed_days')::bigint FROM communities
    c WHERE c.id = items.community_id)
ORDER BY available_since_s
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- name: kLoanNoticeCandidates
WHERE status = 'on_loan'
  AND ((loan_reminded_number < loan_number AND loan_due_at_s - $2 <= $1) OR (loan_late_number <
    loan_number AND loan_due_at_s < $1))
ORDER BY loan_due_at_s
LIMIT $3
FOR UPDATE SKIP LOCKED;

-- name: kLateRepeatsDue
-- Loans still out whose weekly late notice has fallen due, once their first one went: the time
-- stored with the last week told, else the first repeat ($2 after the due date).
WHERE status = 'on_loan'
  AND loan_late_number = loan_number
  AND COALESCE((SELECT max(n.next_at_s) FROM loan_late_notices n WHERE n.item_id = items.id AND
    n.loan_number = items.loan_number), loan_due_at_s + $2) <= $1
ORDER BY loan_due_at_s
LIMIT $3
FOR UPDATE SKIP LOCKED;

-- name: kLastLateWeek
SELECT COALESCE(max(week), 0)
FROM loan_late_notices
WHERE item_id = $1
  AND loan_number = $2;

-- name: kRecordLateNotice
-- A week already told (by another replica, or a retried run) inserts nothing.
INSERT INTO loan_late_notices (item_id, loan_number, week, next_at_s, sent_at_s)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
RETURNING week;

-- name: kLedgerPublishesAvailable
SELECT to_regprocedure('ledger.available_minutes(uuid)') IS NOT NULL;

-- name: kLedgerAvailableMinutes
SELECT ledger.available_minutes($1::uuid);

-- name: kRecordRefusal
UPDATE items
SET ledger_refused_transfer_id = $2, ledger_refused_reason = $3
WHERE id = $1;

-- name: kAddCounters
INSERT INTO daily_stats AS d (community_id, site_key, day, items_in, items_reused,
  reused_g, redirected_reuse_g, redirected_recycle_g, redirected_waste_g,
  loans, exchanges_completed, minutes_exchanged, active_members)
VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (community_id, site_key, day)
DO UPDATE SET items_in = d.items_in + EXCLUDED.items_in,
  items_reused = d.items_reused + EXCLUDED.items_reused,
  reused_g = d.reused_g + EXCLUDED.reused_g, redirected_reuse_g = d.redirected_reuse_g +
  EXCLUDED.redirected_reuse_g, redirected_recycle_g = d.redirected_recycle_g +
  EXCLUDED.redirected_recycle_g, redirected_waste_g = d.redirected_waste_g +
  EXCLUDED.redirected_waste_g, loans = d.loans + EXCLUDED.loans,
  exchanges_completed = d.exchanges_completed + EXCLUDED.exchanges_completed,
  minutes_exchanged = d.minutes_exchanged + EXCLUDED.minutes_exchanged,
  active_members = d.active_members + EXCLUDED.active_members;

-- name: kMarkActive
INSERT INTO active_members (community_id, site_key, day, member_hash)
VALUES ($1, $2, $3::date, $4)
ON CONFLICT DO NOTHING;

-- name: kForgetActivity
-- Bounded: a job run deletes at most $2 rows and the next run takes the rest.
DELETE
FROM active_members
WHERE ctid IN (SELECT ctid FROM active_members WHERE day < $1::date LIMIT $2);

-- name: kStatsWhere
WHERE ($1::uuid IS NULL OR community_id = $1::uuid)
  AND ($2::text IS NULL OR site_key = $2)
  AND day BETWEEN $3::date
  AND $4::date;

-- name: kStatsSums
-- Totals are sums of the published per-site, per-day cells (see http_stats.cpp): a count of
-- people's events below the threshold ($5) in a cell adds nothing, and the minutes of a cell count
-- only when its exchanges do: the cells the CSV shows, so no two answers differ by a hidden figure.
SELECT COALESCE(sum(items_in), 0), COALESCE(sum(items_reused), 0), COALESCE(sum(reused_g),
  0), COALESCE(sum(redirected_reuse_g), 0), COALESCE(sum(redirected_recycle_g),
  0), COALESCE(sum(redirected_waste_g), 0), COALESCE(sum(CASE WHEN loans >= $5 THEN loans ELSE 0
  END), 0), COALESCE(sum(CASE WHEN exchanges_completed >= $5 THEN exchanges_completed ELSE 0 END),
  0), COALESCE(sum(CASE WHEN exchanges_completed >= $5 THEN minutes_exchanged ELSE 0 END),
  0), COALESCE(sum(CASE WHEN active_members >= $5 THEN active_members ELSE 0 END), 0)
FROM daily_stats;

-- name: kStatsRows
SELECT site_key, day::text, items_in, items_reused, reused_g,
  redirected_reuse_g, redirected_recycle_g, redirected_waste_g, loans,
  exchanges_completed, minutes_exchanged, active_members
FROM daily_stats;
