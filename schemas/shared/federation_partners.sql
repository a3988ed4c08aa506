-- Each community's federation partners as the ledger last described the links
-- (federation.link.updated on ledger.events; services/common/federation_partners.hpp), the same
-- table in every service schema that reads it. Linked as schemas/offers/043_federation_partners.sql,
-- schemas/requests/043_federation_partners.sql and schemas/matching/042_federation_partners.sql.
-- One row per side of a link: a community reads a partner's listings only while both sides say
-- active (a suspension by either stops it at once, whatever order the events come in).
CREATE TABLE IF NOT EXISTS federation_partners (
  community_id uuid NOT NULL,
  partner_community_id uuid NOT NULL,
  link_id uuid NOT NULL,
  state text NOT NULL CHECK (state IN ('proposed', 'active', 'suspended')),
  partner_url text,                 -- NULL: the partner is a community of this installation
  described_at timestamptz,         -- occurred_at of the event applied last (older ones: no-op)
  PRIMARY KEY (community_id, partner_community_id)
);
