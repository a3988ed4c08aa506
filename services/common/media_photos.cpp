// The ownership check of photo ids (see media_photos.hpp).
#include "services/common/media_photos.hpp"

#include <set>

#include "services/common/db.hpp"
#include "services/common/media_photos_sql.hpp"

namespace maillon {

FieldErrors photos_not_owned(pqxx::work& tx, const std::string& owner_id,
                             const std::vector<std::string>& photos) {
  if (photos.empty()) return {};
  const std::set<std::string> distinct(photos.begin(), photos.end());
  const auto owned =
      exec_cached(tx, kOwnedPhotoCount, owner_id, array_literal(photos)).at(0)[0].as<std::size_t>();
  if (owned == distinct.size()) return {};
  return {{"photos", "une des photos n'existe pas ou n'a pas été envoyée par ce membre"}};
}

}  // namespace maillon
