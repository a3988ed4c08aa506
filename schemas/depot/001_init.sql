-- Depot service: items dropped at sites (ressourcerie inversée, objetothèque), the copies of
-- communities and sites it needs, and the daily impact counters behind /v1/stats.

-- Copied from the members stream: the policy is stored whole (every field present) as JSON.
CREATE TABLE communities (
  id uuid PRIMARY KEY,
  policy jsonb NOT NULL
);

CREATE TABLE sites (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL,
  name text NOT NULL
);

-- Times are Unix seconds of the service's clock (tests move it), so the rules in
-- exchange/depot.hpp read them as they are.
CREATE TABLE items (
  id uuid PRIMARY KEY,
  site_id uuid NOT NULL,
  community_id uuid NOT NULL,
  category text NOT NULL,
  title text NOT NULL,
  description text NOT NULL,
  condition text NOT NULL,
  weight_g bigint NOT NULL,
  mode text NOT NULL,
  dropped_by_member_id uuid,
  photos jsonb NOT NULL,
  status text NOT NULL,
  deposited_at_s bigint NOT NULL,
  available_since_s bigint NOT NULL,
  reserved_by_member_id uuid,
  reserved_until_s bigint NOT NULL DEFAULT 0,
  collected_by_member_id uuid,
  loans_count integer NOT NULL DEFAULT 0,
  loan_number integer,
  loan_member_id uuid,
  loan_lent_at_s bigint,
  loan_due_at_s bigint,
  loan_returned_at_s bigint,
  outlet text,
  partner text NOT NULL DEFAULT '',
  deposit_rewarded boolean NOT NULL DEFAULT false,
  -- Notices already published, so that the jobs send each once.
  unclaimed_notified_since_s bigint,
  loan_reminded_number integer NOT NULL DEFAULT 0,
  loan_late_number integer NOT NULL DEFAULT 0,
  -- The last refusal of a ledger command about this item, shown to staff.
  ledger_refused_transfer_id text,
  ledger_refused_reason text,
  acted_by uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX items_site ON items (site_id, id);
CREATE INDEX items_reserved ON items (reserved_by_member_id) WHERE status = 'reserved';
CREATE INDEX items_reserved_until ON items (reserved_until_s) WHERE status = 'reserved';
CREATE INDEX items_on_loan ON items (loan_member_id) WHERE status = 'on_loan';
CREATE INDEX items_available_since ON items (available_since_s) WHERE status = 'available';

-- Impact counters per site (or 'network' for exchanges without a site) and UTC day. No member
-- in it: it is what the open-data export reads.
CREATE TABLE daily_stats (
  community_id uuid NOT NULL,
  site_key text NOT NULL,
  day date NOT NULL,
  items_in bigint NOT NULL DEFAULT 0,
  items_reused bigint NOT NULL DEFAULT 0,
  reused_g bigint NOT NULL DEFAULT 0,
  redirected_reuse_g bigint NOT NULL DEFAULT 0,
  redirected_recycle_g bigint NOT NULL DEFAULT 0,
  redirected_waste_g bigint NOT NULL DEFAULT 0,
  loans bigint NOT NULL DEFAULT 0,
  exchanges_completed bigint NOT NULL DEFAULT 0,
  minutes_exchanged bigint NOT NULL DEFAULT 0,
  active_members bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (community_id, site_key, day)
);

-- Who was active where and when, as a keyed hash: it lets the counters count each member once
-- per day and /v1/stats count distinct members over a period. Never exported.
CREATE TABLE active_members (
  community_id uuid NOT NULL,
  site_key text NOT NULL,
  day date NOT NULL,
  member_hash text NOT NULL,
  PRIMARY KEY (community_id, site_key, day, member_hash)
);
