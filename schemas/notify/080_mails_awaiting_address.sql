-- A notice whose mail found no verified address yet waits here for it, instead of being lost:
-- the member's events may reach notify after the event that concerns them (a member who verified
-- their address and at once got a match: the members stream and the matches stream are read
-- apart), or the member has an address that awaits its verification. When member.contact says
-- the address is verified, the mails still wanted (the member's preferences then) are sent, if
-- the notice is less than a day old (services/notify/deciding.cpp); older ones are dropped by
-- the digest job. An unverified address is never mailed.
CREATE TABLE IF NOT EXISTS mails_awaiting_address (
  notice_id uuid PRIMARY KEY,
  member_id uuid NOT NULL,
  notice jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS mails_awaiting_address_member
  ON mails_awaiting_address (member_id, created_at);
CREATE INDEX IF NOT EXISTS mails_awaiting_address_created ON mails_awaiting_address (created_at);

-- Whether notify has read the member's contact (member.contact) yet: a member known only from
-- member.registered may still have an address on its way. Rows before this release: known.
ALTER TABLE recipients ADD COLUMN IF NOT EXISTS contact_seen boolean NOT NULL DEFAULT true;
