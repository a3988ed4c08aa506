-- Every stored change of an item bumps its revision, and each item.* event carries it: consumers
-- of the depot stream (offers listings, the exchange desk) apply an event only when it is newer
-- than what they hold, so a redelivered or reordered event never moves an item back.
ALTER TABLE items ADD COLUMN revision bigint NOT NULL DEFAULT 0;
