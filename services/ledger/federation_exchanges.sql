-- The SQL of services/ledger/federation_exchanges.cpp, one statement per `-- name: <its C++
-- constant>`. At build time, cmake/sql_queries.cmake turns this file into the header
-- services/ledger/federation_exchanges_sql.hpp, which federation_exchanges.cpp includes.
-- Whitespace is free; `--` lines are comments.
-- namespace: maillon::ledger::remote
-- linkage: file-local

-- name: kRelayQueued
-- Whether an action was queued already (under its own key): a command read twice sends it once.
SELECT 1
FROM federation_outbox
WHERE transfer_id = $1
  AND type = $2
LIMIT 1;
