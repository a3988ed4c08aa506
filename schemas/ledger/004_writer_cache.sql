-- 1. Every batch of a community counts itself under the writer lock (services/ledger/apply.cpp).
-- A writer that finds the count one past the batch it committed last knows that nobody else
-- wrote since, and trusts the balances it kept in memory instead of reading them again.
ALTER TABLE communities ADD COLUMN batches bigint NOT NULL DEFAULT 0;

-- 2. An entry was indexed twice: by (account, id) for the history pages, and by (account,
-- transfer) so that a transfer could not move credits twice. The second is the transfer row's
-- job already: entries are written only in the transaction that creates a transfer posted
-- (its insert falls short on an existing id, and the batch rolls back) or that takes a hold out
-- of 'pending' (an update guarded by state = 'pending', rolled back when it falls short), and a
-- transfer reaches 'posted' once. One index update less per entry, two per transfer.
ALTER TABLE entries DROP CONSTRAINT entries_account_id_transfer_id_key;
