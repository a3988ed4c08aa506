-- How many proposals each member received lately, by day: the spread term of the score
-- (matching/score.cpp) held in memory by every replica. A pair is counted by the one replica
-- whose transaction inserted it, in that transaction; the others follow this table as they follow
-- member_reliability (004_reliability_feed.sql), so that all replicas score a pair alike and a
-- restart does not forget who was just proposed to. "Lately": the last 14 days, as of the last
-- count or rebuild.
CREATE TABLE IF NOT EXISTS member_proposals (
  member_id uuid NOT NULL,
  day date NOT NULL,
  received integer NOT NULL CHECK (received > 0),
  written_by_xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (member_id, day)
);

CREATE INDEX IF NOT EXISTS member_proposals_by_xact ON member_proposals (written_by_xact);
