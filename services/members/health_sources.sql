-- The SQL of services/members/health_sources.cpp, one statement per `-- name: <its C++ constant>`.
-- At build time, cmake/sql_queries.cmake turns this file into the header
-- services/members/health_sources_sql.hpp, which health_sources.cpp includes. Whitespace is free;
-- `--` lines are comments.
-- namespace: maillon::members
-- linkage: file-local

-- name: kOutboxSchemas
SELECT table_schema
FROM information_schema.tables
WHERE table_name = 'outbox'
  AND table_type = 'BASE TABLE'
ORDER BY table_schema;

-- name: kOutboxLagOf
-- The schema name is quoted by libpqxx (quote_name): a schema is an identifier, which no
-- statement parameter can stand for.
SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)
FROM {}.outbox
WHERE published_at IS NULL;

-- name: kExchangesTable
-- Absent without an exchange service; unreadable by a role that owns only its own schema (the
-- Kubernetes install: grant SELECT on exchange.exchanges to members' role for this figure).
SELECT CASE WHEN to_regclass('exchange.exchanges') IS NULL THEN false ELSE
  has_table_privilege('exchange.exchanges', 'SELECT') END;

-- name: kSagasStuck
-- The exchanges waiting for the ledger's answer (a hold, a posting), as alerts.yaml's
-- maillon_sagas query counts them.
SELECT count(*) FILTER (WHERE updated_at < now() - make_interval(secs => $1)), count(*)
FROM exchange.exchanges
WHERE state IN ('accepting', 'completing');
