-- Cheaper batch writes. Every transfer row fired two foreign-key checks (a trigger and a query
-- each, about half the cost of inserting it); the writer already names only accounts it holds
-- locked, and accounts are never deleted (erasure keeps them under a pseudonym), so the checks
-- could never fail. Balances change on every transfer: free room in each page keeps those
-- updates heap-only (no index entry per new row version).
ALTER TABLE transfers DROP CONSTRAINT IF EXISTS transfers_from_account_id_fkey;
ALTER TABLE transfers DROP CONSTRAINT IF EXISTS transfers_to_account_id_fkey;
ALTER TABLE accounts SET (fillfactor = 70);
