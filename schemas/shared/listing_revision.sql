-- Every change of a listing counts one revision, under the row's lock, and the listing's events
-- carry it. A consumer may read a listing's events out of order (a dead consumer's entries,
-- claimed after newer ones were applied): it keeps a copy's newest state by comparing revisions
-- (the exchange service's copy, schemas/exchange/007_listing_revision.sql). Linked as
-- schemas/offers/040_listing_revision.sql and schemas/requests/040_listing_revision.sql.
-- Expand only: the previous release's writes bump it through the trigger.
ALTER TABLE listings ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 0;

CREATE FUNCTION next_listing_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.revision := OLD.revision + 1;
  RETURN NEW;
END
$$;

CREATE TRIGGER listings_next_revision BEFORE UPDATE ON listings
  FOR EACH ROW EXECUTE FUNCTION next_listing_revision();
