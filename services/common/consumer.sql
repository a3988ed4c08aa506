-- The SQL of services/common/consumer.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/common/consumer_sql.hpp, which consumer.cpp includes. Whitespace is free; `--` lines are
-- comments.
-- namespace: maillon
-- linkage: file-local

-- name: kRecordApplied
INSERT INTO applied_events (consumer, event_id)
VALUES ($1, $2)
ON CONFLICT DO NOTHING;
