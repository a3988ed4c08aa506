// The matches stream: match.proposed (match.proposed.schema.json). See typed_events.hpp.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "services/common/typed_events.hpp"

namespace maillon {

inline constexpr const char* kMatchesStream = "matches";

// Reading requires id, offer_id and request_id; the rest when present.
struct MatchProposed {
  std::string id;
  std::string offer_id;
  std::string request_id;
  std::string offer_member_id;
  std::string request_member_id;
  double score = 0;
  int64_t distance_m = 0;
  std::string community_id;

  static Read<MatchProposed> read(const Event& e);
  nlohmann::json data() const;
  static std::string type_name() { return "match.proposed"; }
};

}  // namespace maillon
