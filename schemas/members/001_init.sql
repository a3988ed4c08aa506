-- Members service: communities, sites, members, roles, sessions.
CREATE TABLE communities (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  policy jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sites (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities(id),
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('tiers_lieu', 'objetotheque', 'ressourcerie', 'conciergerie')),
  lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
  address text NOT NULL,
  opening_hours text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_by_community ON sites (community_id, id);

CREATE TABLE members (
  id uuid PRIMARY KEY,
  community_id uuid REFERENCES communities(id),  -- NULL only for network administrators
  email text NOT NULL,
  password_hash text,
  display_name text NOT NULL,
  home_site_id uuid REFERENCES sites(id),
  lat double precision,
  lon double precision,
  is_admin boolean NOT NULL DEFAULT false,
  exchanges_completed integer NOT NULL DEFAULT 0,
  exchanges_abandoned integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz
);
CREATE UNIQUE INDEX members_email ON members (lower(email));

CREATE TABLE site_staff (
  site_id uuid NOT NULL REFERENCES sites(id),
  member_id uuid NOT NULL REFERENCES members(id),
  added_by uuid,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, member_id)
);
CREATE INDEX site_staff_by_member ON site_staff (member_id);

-- Only a hash of each token is kept: a database leak does not leak sessions.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  member_id uuid NOT NULL REFERENCES members(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX sessions_by_member ON sessions (member_id);

-- Who did what, including staff acting for a member (X-On-Behalf-Of).
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_id uuid,
  subject_id uuid,
  action text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_subject ON audit_log (subject_id, id);

-- The members service's published interface for other services' authentication: a member's
-- identity (community, home site, roles) as JSON, and the same for a live session's token hash.
CREATE FUNCTION member_identity(p_member uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = members, pg_temp AS $$
  SELECT json_build_object(
    'member_id', m.id,
    'community_id', COALESCE(m.community_id::text, ''),
    'home_site_id', COALESCE(m.home_site_id::text, ''),
    'display_name', m.display_name,
    'is_admin', m.is_admin,
    'staff_site_ids', COALESCE((SELECT json_agg(s.site_id ORDER BY s.site_id) FROM site_staff s
                                WHERE s.member_id = m.id), '[]'::json))::text
  FROM members m WHERE m.id = p_member AND m.erased_at IS NULL
$$;

CREATE FUNCTION session_identity(p_hash text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = members, pg_temp AS $$
  SELECT member_identity(s.member_id) FROM sessions s
  WHERE s.token_hash = p_hash AND s.revoked_at IS NULL AND s.expires_at > now()
$$;
