-- The change feed that keeps every replica's in-memory index equal to this read model
-- (services/matching/consumers.cpp, IndexFollower::follow_once): each write stamps its row with the id of
-- its transaction, and a replica that remembers the oldest transaction running at its last read
-- finds every row committed since by `written_by_xact >= that id` (rows are never deleted).
-- The same scheme as the listing services' search read model (schemas/offers/003_search_feed.sql).
ALTER TABLE listings ADD COLUMN written_by_xact xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE FUNCTION stamp_listing_xact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.written_by_xact := pg_current_xact_id();
  RETURN NEW;
END
$$;

CREATE TRIGGER listings_stamp_xact BEFORE UPDATE ON listings
  FOR EACH ROW EXECUTE FUNCTION stamp_listing_xact();

CREATE INDEX listings_by_xact ON listings (written_by_xact);
