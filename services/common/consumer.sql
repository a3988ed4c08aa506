-- The SQL of services/common/consumer.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/common/consumer_sql.hpp, which consumer.cpp includes. Whitespace is free; `--` lines are
-- comments.
-- namespace: maillon
-- linkage: file-local

-- name: kRecordApplied
-- Events recorded as applied, a page of them (or one) in one statement ($2: their ids): answers
-- those not applied before, an id twice in the page once.
INSERT INTO applied_events (consumer, event_id)
SELECT $1, page.id
FROM unnest($2::uuid[]) AS page (id)
ON CONFLICT DO NOTHING
RETURNING event_id::text;
