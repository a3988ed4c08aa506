-- A service offer stays open to many members, up to its capacity of concurrent exchanges
-- (issue #19). Accepting one counts the exchanges running on the offer under the offer's row
-- lock; this index keeps that count to the few running ones, however many the offer served.
CREATE INDEX exchanges_running_on_offer ON exchanges (offer_id)
  WHERE state IN ('accepting', 'accepted', 'completing');
