-- Weekly late notices of the depot's loans (issue #19), as loans between members have them: the
-- first loan.late goes when the loan passes its due date (items.loan_late_number); then one a
-- week (late_notice 1, 2, ...), a row per week told so that however often the job runs, and on
-- however many replicas, a week is told once. next_at_s: when the following week falls due
-- (exchange/late_notices.hpp), what the job compares with its clock. Times: the service's clock.
CREATE TABLE loan_late_notices (
  item_id uuid NOT NULL,
  loan_number integer NOT NULL,
  week integer NOT NULL CHECK (week > 0),
  next_at_s bigint NOT NULL,
  sent_at_s bigint NOT NULL,
  PRIMARY KEY (item_id, loan_number, week)
);
