-- A dispute or a loss on an exchange with no site waited for staff who did not exist: resolve
-- and lost are for the staff of the exchange's site, and an exchange between neighbours has
-- none. Such an exchange now names a desk site in its document (Exchange::desk_site_id): the
-- proposer's home site, else the other party's, in the exchange's community. Its staff see it,
-- settle it, and find its dispute on their desk (kDeskDisputed, through the index below).
CREATE INDEX IF NOT EXISTS exchanges_desk_disputes ON exchanges ((doc->>'desk_site_id'))
  WHERE state = 'disputed' AND site_id IS NULL;

-- Exchanges opened before, still open, get theirs. The members service publishes who a member
-- is (members.member_identity); a schema migrated on its own (tests) has no member to read.
DO $migration$
BEGIN
  IF to_regprocedure('members.member_identity(uuid)') IS NULL THEN
    RETURN;
  END IF;
  EXECUTE $update$
    UPDATE exchanges e
    SET doc = jsonb_set(e.doc, '{desk_site_id}', to_jsonb(d.site))
    FROM (
      SELECT x.id, (
        SELECT v.i->>'home_site_id'
        FROM (VALUES
          (1, members.member_identity((x.doc->>'proposer_id')::uuid)::jsonb),
          (2, members.member_identity(CASE WHEN x.doc->>'proposer_id' = x.provider_id::text
                                      THEN x.receiver_id ELSE x.provider_id END)::jsonb)) v (n, i)
        WHERE v.i->>'community_id' = x.community_id::text
          AND COALESCE(v.i->>'home_site_id', '') <> ''
        ORDER BY v.n
        LIMIT 1) AS site
      FROM exchanges x
      WHERE x.site_id IS NULL
        AND NOT x.mirror
        AND x.partner_url IS NULL
        AND x.state NOT IN ('completed', 'declined', 'cancelled', 'expired', 'resolved', 'lost')
        AND COALESCE(x.doc->>'desk_site_id', '') = ''
    ) d
    WHERE e.id = d.id
      AND d.site IS NOT NULL
  $update$;
END
$migration$;
