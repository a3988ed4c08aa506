-- Every replica scores with members' reliability held in memory, but an exchange's outcome is
-- counted by the one replica whose consumer got the event: the others follow this table's
-- changes as they follow the listings' (services/common/change_feed.hpp), by the transaction
-- that last wrote each row (set by the count itself, services/matching/repository.cpp).
ALTER TABLE member_reliability
  ADD COLUMN written_by_xact xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX member_reliability_by_xact ON member_reliability (written_by_xact);
