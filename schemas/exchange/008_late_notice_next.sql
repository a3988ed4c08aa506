-- Weekly late notices (issue #19): each told week also stores when the next one falls due
-- (exchange/late_notices.hpp computes it), so the job finds the loans to tell again by comparing
-- a stored time with its clock, instead of every week's arithmetic being written again in SQL.
ALTER TABLE loan_late_notices ADD COLUMN IF NOT EXISTS next_at timestamptz;
-- Weeks told before this release: the next one is a week after theirs.
UPDATE loan_late_notices n SET next_at = e.due_at + make_interval(days => 7 * (n.week + 1))
FROM exchanges e WHERE e.id = n.exchange_id AND n.next_at IS NULL;
