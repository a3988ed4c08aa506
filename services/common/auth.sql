-- The SQL of services/common/auth.cpp, one statement per `-- name: <its C++ constant>`. At build
-- time, cmake/sql_queries.cmake turns this file into the header services/common/auth_sql.hpp, which
-- auth.cpp includes. Whitespace is free; `--` lines are comments.
-- namespace: maillon
-- linkage: file-local

-- name: kSessionIdentity
-- Published by the members schema (schemas/members/): the only way other services read it.
SELECT members.session_identity($1);

-- name: kMemberIdentity
SELECT members.member_identity($1::uuid);
