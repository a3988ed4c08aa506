-- Resuming a suspended federation link (issue 23, POST /v1/federation/links/{id}/resume): each
-- side's row records who suspended the link, so that one community never undoes the other's
-- suspension alone. The link is `suspended` while either flag is set and becomes `active` again
-- (or `proposed`, when it was suspended before its partner accepted it) once every side that
-- suspended it has resumed it. Expand only: columns with defaults, which a release that does
-- not know them leaves as they are.
ALTER TABLE federation_links
  -- Our administrator suspended the link and has not resumed it.
  ADD COLUMN IF NOT EXISTS suspended_by_us boolean NOT NULL DEFAULT false,
  -- The partner's administrator did (told by its side of the link: the other row inside this
  -- installation, link.suspend / link.resume from another installation).
  ADD COLUMN IF NOT EXISTS suspended_by_partner boolean NOT NULL DEFAULT false,
  -- The partner accepted the link once (it was active): a resumed link is active again, one
  -- suspended while still proposed is proposed again and waits for the partner's acceptance.
  ADD COLUMN IF NOT EXISTS accepted boolean NOT NULL DEFAULT false,
  -- Between installations, link.suspend and link.resume may arrive in any order (each is
  -- retried on its own): each of ours carries the next number of `suspension_seq`, and the
  -- partner's are applied only when newer than the last applied (`partner_suspension_seq`).
  ADD COLUMN IF NOT EXISTS suspension_seq bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS partner_suspension_seq bigint NOT NULL DEFAULT 0;

UPDATE federation_links SET accepted = true WHERE state = 'active';
-- Links suspended before this migration: who suspended them was not recorded. Both sides count
-- as having suspended them, so both administrators must resume (neither undoes the other's
-- decision alone); having both agreed again, the link is active.
UPDATE federation_links
SET suspended_by_us = true, suspended_by_partner = true, accepted = true
WHERE state = 'suspended';
