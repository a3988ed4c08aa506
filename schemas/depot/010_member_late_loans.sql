-- Loans between members gone late (from the exchanges stream: exchange.late until
-- exchange.completed or exchange.lost): their borrower cannot borrow at the depot either (422
-- overdue-loan), as a late depot loan keeps them from borrowing between members.
CREATE TABLE member_late_loans (
  exchange_id uuid PRIMARY KEY,
  member_id uuid NOT NULL
);
CREATE INDEX member_late_loans_member ON member_late_loans (member_id);
