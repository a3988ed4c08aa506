// Helpers of depot_world.hpp that need the runtime's ids and time formatting.
#include "depot_world.hpp"

#include "services/common/ids.hpp"
#include "services/depot/depot.hpp"

namespace maillon::testing {

std::string DepotWorld::uuid() {
  return new_uuid();
}

std::string rfc3339(int64_t unix_s) {
  return maillon::format_rfc3339(unix_s);
}

}  // namespace maillon::testing
