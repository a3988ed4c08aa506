-- The SQL of services/offers/depot_items.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/offers/depot_items_sql.hpp, which depot_items.cpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon::listings
-- linkage: file-local

-- name: kAdvanceItem
-- One statement settles the order: it writes only when the event is newer than the revision
-- held (or the item is new), so a redelivered or late event affects no row.
INSERT INTO depot_items (item_id, site_id, revision)
VALUES ($1, $2, $3)
ON CONFLICT (item_id)
DO UPDATE SET revision = EXCLUDED.revision
WHERE depot_items.revision < EXCLUDED.revision;
