-- An exchange's payment between installations (issue 23): the payer's ledger holds both legs at
-- the exchange's acceptance and keeps them held until the exchange ends, then posts or voids
-- both (federation_remote_saga.cpp). `until_told`: a saga opened by a ledger.hold (an exchange's),
-- which waits for its ledger.post or ledger.void once both sides hold, where a direct payment
-- posts at once. `settle_asked`: the exchange's decision, when it came before the partner had
-- answered the hold (a post then follows the hold's answer; a void is applied at once).
ALTER TABLE federation_remote_transfers
  ADD COLUMN IF NOT EXISTS until_told boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS settle_asked text CHECK (settle_asked IN ('post', 'void'));
