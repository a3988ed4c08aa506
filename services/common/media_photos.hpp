// Photos named by a listing or a depot item are ids the media service gave (POST /v1/photos):
// the services that take them ask the media schema's published function whether each id is a
// photo the given member uploaded, so that nobody attaches someone else's photo or an id that
// names nothing.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "exchange/validation.hpp"

namespace maillon {

// The field errors to answer (empty when every id in `photos` is a photo `owner_id` uploaded).
// Runs media.owned_photo_count in the caller's transaction; no query for an empty list.
FieldErrors photos_not_owned(pqxx::work& tx, const std::string& owner_id,
                             const std::vector<std::string>& photos);

}  // namespace maillon
