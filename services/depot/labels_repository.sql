-- The SQL of services/depot/labels_repository.cpp, one statement per `-- name: <its C++ constant>`.
-- At build time, cmake/sql_queries.cmake turns this file into the header
-- services/depot/labels_repository_sql.hpp, which labels_repository.cpp includes. Whitespace is
-- free; `--` lines are comments.
-- namespace: maillon::depot
-- linkage: file-local

-- name: kSiteItemLabels
SELECT id::text, title
FROM items
WHERE site_id = $1::uuid
  AND ($2::uuid[] IS NULL AND status IN ('available', 'reserved',
    'on_loan') OR id = ANY ($2::uuid[]))
ORDER BY id
LIMIT $3;

-- name: kLendLabelsPublished
SELECT to_regprocedure('offers.site_lend_labels(uuid,uuid[],integer)') IS NOT NULL;

-- name: kSiteLendLabels
SELECT id::text, title
FROM offers.site_lend_labels($1::uuid, $2::uuid[], $3);

-- name: kItemsByCode
-- Between the smallest and the largest UUID with that prefix: the primary key's index answers.
SELECT id::text
FROM items
WHERE site_id = $1::uuid
  AND id BETWEEN ($2 || '-0000-0000-0000-000000000000')::uuid
  AND ($2 || '-ffff-ffff-ffff-ffffffffffff')::uuid
ORDER BY id
LIMIT 2;
