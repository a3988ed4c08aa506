-- The change feed of a listings read model kept in memory by every replica (the listing
-- services' search index, services/offers/search_index.cpp; the matching index,
-- services/matching/consumers.cpp): services/common/change_feed.hpp. Every write stamps its row
-- with the id of its transaction. A reader that remembers the oldest transaction still running
-- when it last read (pg_snapshot_xmin) finds every row committed since by
-- `written_by_xact >= that id`: a transaction committing later has an id at least that large,
-- whatever the order of commits. Rows are never deleted, so nothing else can be missed.
-- Linked as schemas/offers/003_search_feed.sql, schemas/requests/003_search_feed.sql and
-- schemas/matching/002_index_feed.sql.
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
