-- Exchanges across communities of one installation (issue 23).
-- The listing copy keeps who may find the listing: a member of a linked community may propose
-- only on a listing that crosses (federation or public). Absent from older events: community.
ALTER TABLE listings ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'community';
-- An exchange belongs to the community of the listing it was proposed on (its policy applies:
-- loan_cost, proposal_days, its sites' desks); partner_community_id is the proposer's community
-- when it is another one, so that its payments go through the two clearing accounts.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS partner_community_id uuid;
