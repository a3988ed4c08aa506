-- Fewer index entries per transfer, no invariant lost. An entry was indexed three times: by id
-- (nothing looks one up by id alone), by (account, id) for the history pages, and by (account,
-- transfer) for uniqueness; the key becomes (account, id), which serves the pages. Transfers by
-- payee are only ever searched for allowances (has this member had this month's?).
ALTER TABLE entries DROP CONSTRAINT entries_pkey;
DROP INDEX entries_by_account;
ALTER TABLE entries ADD PRIMARY KEY (account_id, id);
DROP INDEX transfers_by_payee;
CREATE INDEX transfers_allowances ON transfers (to_account_id, ref) WHERE kind = 'allowance';
