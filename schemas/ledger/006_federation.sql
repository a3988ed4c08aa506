-- Federation (issue 23): agreements between communities, and what the ledger needs to let their
-- members pay each other (services/ledger/federation*.cpp). Each side of a link is one row, keyed
-- by the link's id and the community it belongs to: a link inside one installation has both rows
-- (same id), a link with another installation only ours (partner_url names the other one; the
-- messages between installations are services/ledger/federation_remote*, 007 adds their columns).
CREATE TABLE federation_links (
  id uuid NOT NULL,
  community_id uuid NOT NULL,          -- ours: the side this row describes
  partner_community_id uuid NOT NULL,
  partner_url text,                    -- NULL: the partner lives in this installation
  state text NOT NULL CHECK (state IN ('proposed', 'active', 'suspended')),
  proposed_by_us boolean NOT NULL,
  -- The most our members may owe the partner (-balance of our clearing account, in our minutes).
  debit_limit_minutes bigint NOT NULL DEFAULT 0 CHECK (debit_limit_minutes >= 0),
  -- The most the partner may owe us (balance of our clearing account, in our minutes).
  credit_limit_minutes bigint NOT NULL DEFAULT 0 CHECK (credit_limit_minutes >= 0),
  -- Partner minutes per one of ours: a payment of m of our minutes credits round(m * rate) over
  -- there (half away from zero). The other side's row holds the inverse (rounded to 6 decimals).
  rate numeric NOT NULL DEFAULT 1 CHECK (rate > 0),
  partner_public_key bytea,            -- the partner installation's Ed25519 key (F2)
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, community_id),
  UNIQUE (community_id, partner_community_id),
  CHECK (community_id <> partner_community_id)
);

-- Clearing accounts are ordinary rows of `accounts`: id 'clearing:<ours>:<partner>', community_id
-- ours, member_id NULL (so is_community: exempt from the members' min/max balances; the link's
-- limits bound them instead, checked where a federated hold is made). They are opened with the
-- link (services/ledger/federation_repository.cpp), never here.

-- Published to the exchange service (SECURITY DEFINER, read-only, like offers.listing_copy): the
-- state of the link from `p_from` (the payer's community) to `p_to`, and how many more of the
-- payer's minutes may be held across it now, so that a proposal past a limit is refused (422
-- federation-limit) before the saga starts. The ledger checks again under its lock at hold time:
-- this is advice, never the rule. Both sides' limits count for a link inside this installation
-- (the partner's room converted to our minutes, rounded down); only ours for another
-- installation's partner. Holds in the same direction count as spent; opposite ones do not
-- (they may still be voided). No row: no link.
CREATE FUNCTION ledger.federation_headroom(p_from uuid, p_to uuid)
RETURNS TABLE (state text, headroom_minutes bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ledger, pg_temp AS $$
  SELECT l.state,
         GREATEST(0, LEAST(
           l.credit_limit_minutes
             - COALESCE(ours.balance_minutes + ours.pending_credit_minutes, 0),
           CASE WHEN l.partner_url IS NULL THEN
             COALESCE(floor((p.debit_limit_minutes
                             + COALESCE(theirs.balance_minutes - theirs.pending_debit_minutes, 0))
                            / l.rate)::bigint, 0)
           END))::bigint
  FROM federation_links l
  LEFT JOIN federation_links p
    ON l.partner_url IS NULL AND p.id = l.id AND p.community_id = l.partner_community_id
  LEFT JOIN accounts ours
    ON ours.id = 'clearing:' || l.community_id::text || ':' || l.partner_community_id::text
  LEFT JOIN accounts theirs
    ON l.partner_url IS NULL
   AND theirs.id = 'clearing:' || l.partner_community_id::text || ':' || l.community_id::text
  WHERE l.community_id = p_from AND l.partner_community_id = p_to
$$;

-- Only the exchange service calls it (k8s/base/postgres.yaml gives its role USAGE on this schema);
-- a development server has one superuser role and no per-service roles, so the grant is made
-- only where the role exists.
REVOKE ALL ON FUNCTION ledger.federation_headroom(uuid, uuid) FROM PUBLIC;
DO $grant$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'maillon_exchange') THEN
    GRANT EXECUTE ON FUNCTION ledger.federation_headroom(uuid, uuid) TO maillon_exchange;
  END IF;
END
$grant$;
