-- Exchanges with a member of a partner installation (issue 23). An exchange lives at the
-- installation of the member who proposed it; partner_url names the other party's installation.
-- That installation keeps a mirror of it (mirror = true, partner_url = where the exchange lives),
-- written only from the signed states the exchange's installation sends, newest version first;
-- its party's actions on the mirror are sent there, never applied here. The jobs (expiry, late
-- loans, a member's departure) move only exchanges that live here.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS partner_url text;
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS mirror boolean NOT NULL DEFAULT false;
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS mirror_version bigint;
