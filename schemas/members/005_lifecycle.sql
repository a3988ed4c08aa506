-- Members lifecycle and moderation: membership status (approval, suspension), community
-- administrators, members registered at the desk (no e-mail, a short number), reports.

-- members.status and community_admins come from 002_trust.sql.

-- Reinstating gives back the status the member had (a pending member stays pending: the joining
-- bonus is paid on approval only).
ALTER TABLE members
  ADD COLUMN status_before_suspension text
    CHECK (status_before_suspension IN ('active', 'pending')),
  ADD COLUMN status_reason text,
  ADD COLUMN status_changed_at timestamptz,
  -- Set when staff registered the member at the desk: that registration is their approval.
  ADD COLUMN registered_by uuid,
  -- Digits and an optional leading +, as the desk typed them without spaces or dots.
  ADD COLUMN phone text,
  -- Short and per community, for a card or a phone call at the desk; never an identifier.
  ADD COLUMN member_number integer;

-- A member registered at the desk has no e-mail (nor password) until they add one.
ALTER TABLE members ALTER COLUMN email DROP NOT NULL;

CREATE TABLE member_numbers (
  community_id uuid PRIMARY KEY REFERENCES communities(id),
  last_number integer NOT NULL
);

-- Every way in (registration, the desk, later ones) gets its number and, in a community whose
-- policy asks for approval, starts pending unless staff registered them in person.
CREATE FUNCTION members_before_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path = members, pg_temp AS $$
BEGIN
  IF NEW.community_id IS NULL THEN
    RETURN NEW;
  END IF;
  INSERT INTO member_numbers AS n (community_id, last_number) VALUES (NEW.community_id, 1)
  ON CONFLICT (community_id) DO UPDATE SET last_number = n.last_number + 1
  RETURNING n.last_number INTO NEW.member_number;
  IF NEW.registered_by IS NULL AND NOT NEW.is_admin AND
     (SELECT COALESCE(c.policy->>'membership', 'open') FROM communities c
      WHERE c.id = NEW.community_id) = 'approval' THEN
    NEW.status := 'pending';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER members_before_insert BEFORE INSERT ON members
  FOR EACH ROW EXECUTE FUNCTION members_before_insert();

-- Members who joined before numbers existed get theirs in order of arrival.
WITH numbered AS (
  SELECT id, community_id,
         row_number() OVER (PARTITION BY community_id ORDER BY created_at, id) AS n
  FROM members WHERE community_id IS NOT NULL
)
UPDATE members m SET member_number = numbered.n FROM numbered WHERE m.id = numbered.id;
INSERT INTO member_numbers (community_id, last_number)
SELECT community_id, max(member_number) FROM members
WHERE community_id IS NOT NULL GROUP BY community_id;
CREATE UNIQUE INDEX members_number ON members (community_id, member_number);

-- Reports from members to the staff of a site (see services/members/http_moderation.cpp for
-- which site). The reported member is known only for reports on a member.
CREATE TABLE reports (
  id uuid PRIMARY KEY,
  community_id uuid NOT NULL REFERENCES communities(id),
  site_id uuid NOT NULL REFERENCES sites(id),
  reporter_id uuid NOT NULL REFERENCES members(id),
  acting_staff_id uuid,
  target text NOT NULL CHECK (target IN ('offer', 'request', 'member', 'exchange_message')),
  target_id uuid NOT NULL,
  reported_member_id uuid REFERENCES members(id),
  reason text NOT NULL,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  action text CHECK (action IN ('none', 'hide', 'suspend')),
  note text,
  closed_by uuid,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_open_by_site ON reports (site_id, id) WHERE state = 'open';
CREATE INDEX reports_by_reporter ON reports (reporter_id, created_at);
-- One open report per reporter and target: repeating it does not make it weigh more.
CREATE UNIQUE INDEX reports_open_once ON reports (reporter_id, target, target_id)
  WHERE state = 'open';
