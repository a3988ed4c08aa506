-- Every write of a listing row counts one more revision (writes of a row are serialized by its
-- lock, so the count orders them). The in-memory index keeps the revision it applied: a late
-- read of the change feed never puts back an older row, and the feed stores a pair only while
-- both rows are, under a share lock, at the revision the index holds
-- (services/matching/consumers.cpp). updated_at cannot serve: events carry it in seconds.
ALTER TABLE listings ADD COLUMN revision bigint NOT NULL DEFAULT 0;
