-- Loans and repeatable services (issue #19): a lent object's deposit (held from the borrower
-- while it is out) and a service's capacity (concurrent exchanges at most). Requests share this
-- file (schemas/requests/010_loans.sql links here): the listing code reads the same columns.
ALTER TABLE listings
  ADD COLUMN deposit_minutes bigint CHECK (deposit_minutes BETWEEN 0 AND 6000),
  ADD COLUMN capacity integer CHECK (capacity BETWEEN 1 AND 1000);
