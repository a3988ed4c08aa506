-- The SQL of services/media/repository.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/media/repository_sql.hpp, which repository.cpp includes. Whitespace is free; `--` lines
-- are comments.
-- namespace: maillon::media
-- linkage: file-local

-- name: kInsertPhoto
INSERT INTO photos (id, owner_id, acted_by, width, height, thumb_width, thumb_height,
  source_type, source_bytes, stored_bytes, url, thumb_url)
VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12);
