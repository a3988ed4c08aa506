-- The SQL of services/common/federation_partners.cpp, one statement per `-- name: <its C++
-- constant>`. At build time, cmake/sql_queries.cmake turns this file into the header
-- services/common/federation_partners_sql.hpp, which federation_partners.cpp includes. Whitespace
-- is free; `--` lines are comments.
-- namespace: maillon::federation_partners
-- linkage: file-local

-- name: kUpsertSide
-- described_at keeps the newer description: a redelivered older event changes nothing.
INSERT INTO federation_partners AS f (community_id, partner_community_id, link_id,
  state, partner_url, described_at)
VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::timestamptz)
ON CONFLICT (community_id, partner_community_id)
DO UPDATE SET link_id = EXCLUDED.link_id, state = EXCLUDED.state,
  partner_url = EXCLUDED.partner_url, described_at = EXCLUDED.described_at
WHERE f.described_at IS NULL
  OR EXCLUDED.described_at IS NULL
  OR f.described_at <= EXCLUDED.described_at;

-- name: kActiveSides
-- Both sides active. A partner in this installation describes its own side (its row here); one in
-- another installation has none here: our side is active only while the partner's is (its
-- suspension reaches ours as link.suspend), and its listings are the copies its ledger sent ours
-- (schemas/offers/070_partner_listings.sql).
SELECT ours.community_id::text, ours.partner_community_id::text
FROM federation_partners ours
LEFT JOIN federation_partners theirs ON theirs.community_id = ours.partner_community_id
  AND theirs.partner_community_id = ours.community_id
WHERE ours.state = 'active'
  AND (ours.partner_url IS NOT NULL OR theirs.state = 'active');


-- name: kActiveOfCommunityTail
AND ours.community_id = $1
ORDER BY ours.partner_community_id;

-- name: kLinkedTail
AND ours.community_id = $1
  AND ours.partner_community_id = $2;
