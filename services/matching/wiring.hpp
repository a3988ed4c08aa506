// How the matching service's parts are wired together (register_service calls these).
#pragma once

#include <memory>

#include "services/matching/index.hpp"

namespace maillon {
class Service;
}

namespace maillon::matching_service {

int64_t now_s();  // the service's clock: the engine takes time as an input
// Loads the read model into the engines (at start, before consumers and HTTP).
void rebuild_index(Service& service, MatchIndex& index);
void register_consumers(Service& service, const std::shared_ptr<MatchIndex>& index);
void register_routes(Service& service, const std::shared_ptr<MatchIndex>& index);

}  // namespace maillon::matching_service
