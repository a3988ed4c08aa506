-- The time-credit ledger: accounts (one per member, one per community), transfers that are never
-- edited once resolved, and the entries every posted movement leaves (the audit's evidence).

-- Policies copied from `community.created` on the members stream.
CREATE TABLE communities (
  id uuid PRIMARY KEY,
  policy jsonb NOT NULL
);

-- id = the member's uuid, or 'community:<community_id>' for the account that issues bonuses.
CREATE TABLE accounts (
  id text PRIMARY KEY,
  community_id uuid NOT NULL,
  member_id uuid UNIQUE,
  is_community boolean NOT NULL,
  balance_minutes bigint NOT NULL DEFAULT 0,
  pending_debit_minutes bigint NOT NULL DEFAULT 0 CHECK (pending_debit_minutes >= 0),
  pending_credit_minutes bigint NOT NULL DEFAULT 0 CHECK (pending_credit_minutes >= 0),
  pseudonym text,  -- set when the member is erased: the history stays, the name goes
  opened_at timestamptz NOT NULL DEFAULT now(),
  CHECK (is_community = (member_id IS NULL))
);
CREATE INDEX accounts_by_community ON accounts (community_id, id);

-- The request columns (from .. ref) are what idempotency compares: they never change.
CREATE TABLE transfers (
  community_id uuid NOT NULL,
  id text NOT NULL CHECK (octet_length(id) BETWEEN 1 AND 64),
  from_account_id text NOT NULL REFERENCES accounts (id),
  to_account_id text NOT NULL REFERENCES accounts (id),
  amount_minutes bigint NOT NULL CHECK (amount_minutes > 0),
  pending boolean NOT NULL,
  timeout_s bigint NOT NULL DEFAULT 0 CHECK (timeout_s >= 0),
  kind text NOT NULL,
  memo text NOT NULL DEFAULT '',
  ref text NOT NULL DEFAULT '',
  state text NOT NULL CHECK (state IN ('pending', 'posted', 'voided', 'expired')),
  posted_minutes bigint NOT NULL DEFAULT 0 CHECK (posted_minutes BETWEEN 0 AND amount_minutes),
  created_at_us bigint NOT NULL,
  resolved_at_us bigint NOT NULL DEFAULT 0,
  deadline_us bigint,  -- created_at + timeout for a hold that times out: what the expiry job scans
  actor_id text,       -- who asked (the staff member when acting for someone)
  PRIMARY KEY (community_id, id)
);
CREATE INDEX transfers_due ON transfers (deadline_us) WHERE state = 'pending' AND deadline_us IS NOT NULL;
CREATE INDEX transfers_by_payee ON transfers (to_account_id, kind, ref);

-- One entry per account per transfer: a transfer moves credits at most once.
CREATE TABLE entries (
  id bigserial PRIMARY KEY,
  account_id text NOT NULL,
  transfer_id text NOT NULL,
  amount_minutes bigint NOT NULL CHECK (amount_minutes <> 0),
  balance_after_minutes bigint NOT NULL,
  kind text NOT NULL,
  ref text NOT NULL DEFAULT '',
  counterparty_account_id text NOT NULL,
  at_us bigint NOT NULL,
  UNIQUE (account_id, transfer_id)
);
CREATE INDEX entries_by_account ON entries (account_id, id);
