// The media schema's statements (see repository.hpp).
#include "services/media/repository.hpp"

#include "services/media/repository_sql.hpp"

namespace maillon::media {

void insert_photo(pqxx::work& tx, const PhotoRow& row) {
  tx.exec_params0(kInsertPhoto, row.id, row.owner_id, row.acted_by, row.width, row.height,
                  row.thumb_width, row.thumb_height, row.source_type, row.source_bytes,
                  row.stored_bytes, row.url, row.thumb_url);
}

}  // namespace maillon::media
