-- The SQL of services/exchange/desk_items.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/exchange/desk_items_sql.hpp, which desk_items.cpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon::exchange
-- linkage: file-local

-- name: kUpsertDeskItem
-- $6 NULL keeps the unclaimed flag; only item.unclaimed sets it and a return (new shelf time)
-- clears it. The WHERE drops an event older than the row: redelivered or overtaken.
INSERT INTO desk_items (item_id, site_id, community_id, revision, status,
  unclaimed, reserved_by_member_id, reserved_until, item)
VALUES ($1, $2, $3, $4, $5, COALESCE($6::boolean, false), $7::uuid, $8::timestamptz, $9::jsonb)
ON CONFLICT (item_id)
DO UPDATE SET revision = EXCLUDED.revision, status = EXCLUDED.status,
  unclaimed = COALESCE($6::boolean, desk_items.unclaimed),
  reserved_by_member_id = EXCLUDED.reserved_by_member_id,
  reserved_until = EXCLUDED.reserved_until, item = EXCLUDED.item
WHERE desk_items.revision < EXCLUDED.revision;

-- name: kToHandOut
-- Not filtered on reserved_until: the depot's clock decides when a reservation lapses, and its
-- lapse job publishes item.available, which takes the item off this list.
SELECT item::text, COALESCE(reserved_by_member_id::text, '')
FROM desk_items
WHERE site_id = $1
  AND status = 'reserved'
ORDER BY reserved_until, item_id
LIMIT $2;

-- name: kToRedirect
SELECT item::text, ''
FROM desk_items
WHERE site_id = $1
  AND status = 'available'
  AND unclaimed
ORDER BY item_id
LIMIT $2;
