-- The SQL of services/members/lifecycle_repository.cpp, one statement per `-- name: <its C++
-- constant>`. At build time, cmake/sql_queries.cmake turns this file into the header
-- services/members/lifecycle_repository_sql.hpp, which lifecycle_repository.cpp includes.
-- Whitespace is free; `--` lines are comments.
-- namespace: maillon::members::lifecycle_repo
-- linkage: file-local

-- name: kLockMember
SELECT m.id, COALESCE(m.community_id::text, ''), COALESCE(m.home_site_id::text, ''),
  m.is_admin, EXISTS (SELECT 1 FROM site_staff s WHERE s.member_id = m.id),
  EXISTS (SELECT 1 FROM community_admins a WHERE a.member_id = m.id),
  m.status, COALESCE(m.status_before_suspension, '')
FROM members m
WHERE m.id = $1
  AND m.erased_at IS NULL
FOR UPDATE OF m;

-- name: kStatusForLogin
SELECT status
FROM members
WHERE id = $1
  AND erased_at IS NULL
FOR SHARE;

-- name: kSetStatus
UPDATE members
SET status = $2, status_before_suspension = $3, status_reason = $4,
  status_changed_at = now(), updated_at = now()
WHERE id = $1;

-- name: kRevokeSessions
UPDATE sessions
SET revoked_at = now()
WHERE member_id = $1
  AND revoked_at IS NULL
  AND expires_at > now()
RETURNING token_hash, GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint;

-- name: kRemoveStaff
DELETE
FROM site_staff
WHERE site_id = $1
  AND member_id = $2;

-- name: kAddCommunityAdmin
INSERT INTO community_admins (community_id, member_id, added_by)
VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING;

-- name: kRemoveCommunityAdmin
DELETE
FROM community_admins
WHERE community_id = $1
  AND member_id = $2;

-- name: kLockDailyQuota
-- What one member does under a daily limit (desk registrations by a staff member: 'desk-registrar';
-- reports by a reporter: 'report') is written one at a time (an advisory lock on the kind and the
-- member), so the day's count read before the insert cannot be overtaken by a concurrent one.
SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2::text, 0));

-- name: kDeskRegistrationsToday
SELECT count(*)
FROM members
WHERE registered_by = $1
  AND created_at > now() - interval '1 day';

-- name: kInsertDeskMember
INSERT INTO members (id, community_id, email, password_hash, display_name, home_site_id,
  phone, registered_by)
VALUES ($1, $2, NULL, NULL, $3, $4, $5, $6)
RETURNING member_number;

-- name: kSummaryColumns
SELECT m.id, m.display_name, COALESCE(m.email, ''), COALESCE(m.phone, ''),
  COALESCE(m.member_number, 0), COALESCE(m.home_site_id::text, ''),
  COALESCE(m.community_id::text, ''), m.status
FROM members m;

-- name: kFindSummary
WHERE m.id = $1
  AND m.erased_at IS NULL;

-- name: kSearchWhere
-- $4: the words as a LIKE pattern; $5: the digits of a phone number (or ''); $6: a member
-- number (or NULL). Bounded by the page size; a community's members are thousands at most.
WHERE m.erased_at IS NULL
  AND m.id > $7::uuid
  AND ($1 OR m.community_id = ANY($2::uuid[]) OR m.home_site_id = ANY($3::uuid[]))
  AND (m.display_name ILIKE $4 ESCAPE '\' OR m.email ILIKE $4 ESCAPE '\' OR ($5 <> '' AND m.phone
    LIKE '%' || $5 || '%') OR m.member_number = $6)
ORDER BY m.id
LIMIT $8;

-- name: kReportsToday
SELECT count(*)
FROM reports
WHERE reporter_id = $1
  AND created_at > now() - interval '1 day';

-- name: kInsertReport
INSERT INTO reports (id, community_id, site_id, reporter_id, acting_staff_id, target,
  target_id, reported_member_id, reason)
VALUES ($1, $2, $3, $4, $5::uuid, $6, $7, $8::uuid, $9)
ON CONFLICT DO NOTHING;

-- name: kReportColumns
SELECT id, community_id, site_id, reporter_id, target, target_id,
  COALESCE(reported_member_id::text, ''), reason, state, COALESCE(action, ''),
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  COALESCE(acting_staff_id::text, '')
FROM reports;

-- name: kFindReport
WHERE id = $1;

-- name: kOpenReports
WHERE site_id = $1
  AND state = 'open'
  AND id > $2::uuid
ORDER BY id
LIMIT $3;

-- name: kCloseReport
UPDATE reports
SET state = 'closed', action = $2, note = $3, closed_by = $4, closed_at = now()
WHERE id = $1
  AND state = 'open';

-- name: kReportsFiledJson
SELECT COALESCE(json_agg(json_build_object('id', id, 'target', target, 'target_id',
  target_id, 'reason', reason, 'state', state, 'action', action, 'created_at',
  created_at) ORDER BY created_at, id), '[]'::json)::text
FROM reports
WHERE reporter_id = $1;

-- name: kForgetReportTexts
UPDATE reports
SET reason = '(effacé)'
WHERE reporter_id = $1;

-- name: kOpenLoansExists
SELECT to_regprocedure('depot.member_open_loans(uuid)') IS NOT NULL;

-- name: kOpenLoans
SELECT COALESCE(depot.member_open_loans($1::uuid), 0);
