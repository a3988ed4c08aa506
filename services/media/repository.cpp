// The media schema's statements (see repository.hpp).
#include "services/media/repository.hpp"

namespace maillon::media {
namespace {

constexpr const char* kInsertPhoto =
    "INSERT INTO photos (id, owner_id, acted_by, width, height, thumb_width, thumb_height, "
    "source_type, source_bytes, stored_bytes, url, thumb_url) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

}  // namespace

void insert_photo(pqxx::work& tx, const PhotoRow& row) {
  tx.exec_params0(kInsertPhoto, row.id, row.owner_id, row.acted_by, row.width, row.height,
                  row.thumb_width, row.thumb_height, row.source_type, row.source_bytes,
                  row.stored_bytes, row.url, row.thumb_url);
}

}  // namespace maillon::media
