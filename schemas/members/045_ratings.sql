-- What a member's profile shows of their exchanges (issue #19): the stars received
-- (exchange.rated: rating_average = rating_sum / rating_count) and the exchanges they did not come
-- to (exchange.no_show), which lower their reliability as an abandoned exchange does.
ALTER TABLE members
  ADD COLUMN rating_sum bigint NOT NULL DEFAULT 0,
  ADD COLUMN rating_count integer NOT NULL DEFAULT 0,
  ADD COLUMN no_shows integer NOT NULL DEFAULT 0;
