-- The SQL of services/common/media_photos.cpp, one statement per `-- name: <its C++ constant>`. At
-- build time, cmake/sql_queries.cmake turns this file into the header
-- services/common/media_photos_sql.hpp, which media_photos.cpp includes. Whitespace is free; `--`
-- lines are comments.
-- namespace: maillon
-- linkage: file-local

-- name: kOwnedPhotoCount
SELECT media.owned_photo_count($1::uuid, $2::uuid[]);
