-- A given (or swapped) object is promised to one exchange at a time (issue 21): accepting another
-- counts, under the listing copy's row lock, the exchanges that hold it, as the offer or as a
-- swap's given listing, from accepting until they end (a dispute holds it until resolved). These
-- keep that count to the few running exchanges, however many the listing had.
CREATE INDEX IF NOT EXISTS exchanges_holding_offer ON exchanges (offer_id)
  WHERE state IN ('accepting', 'accepted', 'completing', 'disputed');
CREATE INDEX IF NOT EXISTS exchanges_holding_given ON exchanges ((doc->>'given_offer_id'))
  WHERE mode = 'swap' AND state IN ('accepting', 'accepted', 'completing', 'disputed');
