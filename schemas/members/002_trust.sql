-- Trust: a member's status (membership approval, suspension), community administrators, and the
-- session check other services use, which now says when the session ends so that no cache of it
-- outlives it, and refuses the sessions of a suspended member even before they are revoked.
ALTER TABLE members ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active'
  CHECK (status IN ('active', 'pending', 'suspended'));

-- A community admin manages that community only (sites, staff, policy, links); written by the
-- members lifecycle (POST /v1/communities/{id}/admins), read by member_identity() below.
CREATE TABLE IF NOT EXISTS community_admins (
  community_id uuid NOT NULL REFERENCES communities(id),
  member_id uuid NOT NULL REFERENCES members(id),
  added_by uuid,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (community_id, member_id)
);
CREATE INDEX IF NOT EXISTS community_admins_by_member ON community_admins (member_id);

CREATE OR REPLACE FUNCTION member_identity(p_member uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = members, pg_temp AS $$
  SELECT json_build_object(
    'member_id', m.id,
    'community_id', COALESCE(m.community_id::text, ''),
    'home_site_id', COALESCE(m.home_site_id::text, ''),
    'display_name', m.display_name,
    'is_admin', m.is_admin,
    'status', m.status,
    'staff_site_ids', COALESCE((SELECT json_agg(s.site_id ORDER BY s.site_id) FROM site_staff s
                                WHERE s.member_id = m.id), '[]'::json),
    'admin_community_ids', COALESCE((SELECT json_agg(a.community_id ORDER BY a.community_id)
                                     FROM community_admins a WHERE a.member_id = m.id),
                                    '[]'::json))::text
  FROM members m WHERE m.id = p_member AND m.erased_at IS NULL
$$;

-- The identity plus `expires_at` (seconds since the epoch): callers cache a session no longer
-- than that.
CREATE OR REPLACE FUNCTION session_identity(p_hash text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = members, pg_temp AS $$
  SELECT (member_identity(s.member_id)::jsonb ||
          jsonb_build_object('expires_at', floor(extract(epoch FROM s.expires_at))::bigint))::text
  FROM sessions s JOIN members m ON m.id = s.member_id
  WHERE s.token_hash = p_hash AND s.revoked_at IS NULL AND s.expires_at > now()
    AND m.status <> 'suspended'
$$;
