-- The revision of the listing each copy holds (schemas/shared/listing_revision.sql): an event
-- older than the copy, read late, changes nothing. NULL: a copy made before revisions were
-- announced, or from an event of the previous release (which carries none); either is replaced.
ALTER TABLE listings ADD COLUMN IF NOT EXISTS revision bigint;
