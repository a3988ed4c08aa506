-- Federation between installations (issue 23, services/ledger/federation_remote*): this
-- installation's signing key, the messages exchanged with partner installations (signed,
-- idempotent, retried until answered) and the sagas of transfers whose two legs live in two
-- ledgers. The links themselves are 006's federation_links (partner_url not NULL).

-- This installation's Ed25519 key pair, made once by the ledger at its first start. The secret
-- key never leaves this table: no grant on it, so only the schema's owner (the ledger's role)
-- reads it; partners learn the public key from the link messages.
CREATE TABLE federation_installation (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
  secret_key bytea NOT NULL CHECK (octet_length(secret_key) = 64),
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON federation_installation FROM PUBLIC;

-- Messages received, with the first answer given: the same id answers the same again, and the
-- same id with another content is refused (409). `content_hash` covers the body but `sent_at`,
-- which the sender renews at each retry so that a retry hours later is not stale.
CREATE TABLE federation_inbox (
  message_id uuid PRIMARY KEY,
  link_id uuid NOT NULL,
  type text NOT NULL,
  content_hash bytea NOT NULL,
  answer text NOT NULL,
  received_at_us bigint NOT NULL
);

-- Messages to send, retried with a growing pause until the partner answers; `payload` is kept
-- as sent (the envelope is rebuilt and signed again at each attempt, with a fresh sent_at).
CREATE TABLE federation_outbox (
  message_id uuid PRIMARY KEY,
  link_id uuid NOT NULL,
  community_id uuid NOT NULL,  -- ours, the sender
  partner_community_id uuid NOT NULL,
  partner_url text NOT NULL,
  type text NOT NULL,
  payload text NOT NULL,
  transfer_id text,  -- the saga the message belongs to, when it is a transfer's
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'answered', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_us bigint NOT NULL,
  last_error text,
  answer text,
  created_at_us bigint NOT NULL,
  answered_at_us bigint
);
CREATE INDEX federation_outbox_due ON federation_outbox (next_attempt_us)
  WHERE state = 'pending';
CREATE INDEX federation_outbox_by_transfer ON federation_outbox (transfer_id)
  WHERE transfer_id IS NOT NULL;

-- One row per side of a transfer between installations. The payer's side coordinates: it holds
-- payer -> clearing, asks the partner to hold clearing -> payee, then posts (or voids) both;
-- the payee's side follows what the payer's decides. `id` is the legs' transfer id, the same
-- in both ledgers. A payee-side row may be a tombstone (voided, no leg): a void that arrived
-- before its hold, so that the late hold is refused.
CREATE TABLE federation_remote_transfers (
  id text PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 64),
  community_id uuid NOT NULL,  -- ours
  link_id uuid NOT NULL,
  partner_community_id uuid NOT NULL,
  role text NOT NULL CHECK (role IN ('payer', 'payee')),
  payer_member_id uuid NOT NULL,
  payee_member_id uuid NOT NULL,
  minutes bigint NOT NULL CHECK (minutes > 0),          -- our leg, in our minutes
  partner_minutes bigint NOT NULL CHECK (partner_minutes > 0),  -- theirs, in theirs
  state text NOT NULL
    CHECK (state IN ('holding', 'held', 'posting', 'voiding', 'posted', 'voided')),
  has_leg boolean NOT NULL DEFAULT true,  -- false for a tombstone (nothing was held here)
  reason text,  -- why it was voided
  memo text NOT NULL DEFAULT '',
  deadline_us bigint NOT NULL,  -- the payer's side voids a hold not confirmed by then
  created_at_us bigint NOT NULL,
  updated_at_us bigint NOT NULL
);
CREATE INDEX federation_remote_transfers_open ON federation_remote_transfers (deadline_us)
  WHERE state IN ('holding', 'posting', 'voiding');
CREATE INDEX federation_remote_transfers_by_link
  ON federation_remote_transfers (link_id, community_id, created_at_us);
