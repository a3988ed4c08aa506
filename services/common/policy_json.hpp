// The one JSON form of a community policy, used by members (API) and by every service that
// reads it from community events (ledger, exchange, depot).
#pragma once

#include <nlohmann/json.hpp>

#include "exchange/policy.hpp"

namespace maillon {

nlohmann::json policy_to_json(const CommunityPolicy& policy);
// Fields absent from `j` keep their defaults; unknown fields and wrong types are field errors
// (named "policy.<field>"), as are values out of range.
CommunityPolicy policy_from_json(const nlohmann::json& j, FieldErrors& errors);

}  // namespace maillon
