// How the matching service's parts are wired together (register_service calls these).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "services/common/periodic.hpp"
#include "services/matching/index.hpp"

namespace maillon {
class Service;
}

namespace maillon::matching_service {

// The engine takes time as an input: callers pass the service's clock (Service::clock).
// Loads the read model into the engines (at start, before consumers and HTTP); returns the feed
// position from which follow_index_feed reads what was written after.
std::string rebuild_index(Service& service, MatchIndex& index);

// With N replicas a consumer group hands each event to one of them, so each replica also
// follows the read model's change feed: what another replica stored enters this one's index,
// and is matched here too (a pair whose two listings were stored at the same moment by two
// replicas is found by whichever feed sees both; the match table keeps one copy and one event).
// It also reads the federation partners each poll: when two communities become linked (both
// sides active), the listings of each that cross are matched with the other's, which their
// publication could not pair before; every replica does it, the match table keeps one copy.
class IndexFollower {
 public:
  IndexFollower(Service& service, std::shared_ptr<MatchIndex> index);
  void start(std::string position, std::chrono::milliseconds interval);
  void follow_once();

 private:
  Service& s_;
  std::shared_ptr<MatchIndex> index_;
  std::string position_;
  // Each community's active partners as the last poll read them. Empty at start: the first poll
  // pairs anew every link then active, one that became active while no replica ran included.
  std::unordered_map<std::string, std::vector<std::string>> partners_;
  PeriodicThread thread_;
};
void register_consumers(Service& service, const std::shared_ptr<MatchIndex>& index);
void register_routes(Service& service, const std::shared_ptr<MatchIndex>& index);

}  // namespace maillon::matching_service
