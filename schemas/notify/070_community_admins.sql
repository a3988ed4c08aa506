-- Who administers each community (member.updated's community_admin, set when an administrator of
-- the platform adds or removes a community admin): notify tells them what concerns the whole
-- community, such as a federation link's reconciliation finding differences (issue 23).
ALTER TABLE recipients ADD COLUMN community_admin boolean NOT NULL DEFAULT false;
CREATE INDEX recipients_community_admins ON recipients (community_id) WHERE community_admin;
