-- The SQL of services/common/change_feed.hpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/common/change_feed_sql.hpp, which change_feed.hpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon::change_feed
-- linkage: inline

-- name: kNextPosition
-- A feed read is one statement: "SELECT <columns>, " + kNextPosition + kListingsSince, with the
-- last position as $1. The snapshot that reads the rows is the one whose position comes back,
-- and the LEFT JOIN answers one row of NULLs when nothing changed, so it still comes back.
s.next_xact::text AS next_xact;

-- name: kListingsSince
-- The upper bound keeps nothing out (every row this snapshot sees was written below its xmax) but
-- makes the condition a range, which the planner estimates as narrow without statistics: a table
-- never analysed yet (freshly filled, autovacuum not come by) was otherwise read whole at every
-- feed read instead of through listings_by_xact.
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS next_xact) s
LEFT JOIN listings ON written_by_xact >= $1::xid8
  AND written_by_xact < pg_snapshot_xmax(pg_current_snapshot());

-- name: kPosition
-- Where a reader starts: read before the rows it loads, so nothing committed after is missed.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text;
