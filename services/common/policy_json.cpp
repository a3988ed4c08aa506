// CommunityPolicy <-> JSON.
#include "services/common/policy_json.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace maillon {
namespace {

using PolicyField = std::pair<const char*, int64_t CommunityPolicy::*>;
constexpr std::array<PolicyField, 13> kFields = {{
    {"min_balance", &CommunityPolicy::min_balance},
    {"max_balance", &CommunityPolicy::max_balance},
    {"signup_bonus", &CommunityPolicy::signup_bonus},
    {"monthly_allowance", &CommunityPolicy::monthly_allowance},
    {"deposit_reward", &CommunityPolicy::deposit_reward},
    {"loan_cost", &CommunityPolicy::loan_cost},
    {"reservation_hours", &CommunityPolicy::reservation_hours},
    {"unclaimed_days", &CommunityPolicy::unclaimed_days},
    {"proposal_days", &CommunityPolicy::proposal_days},
    {"max_active_reservations", &CommunityPolicy::max_active_reservations},
    {"grant_review_minutes", &CommunityPolicy::grant_review_minutes},
    {"max_renewals", &CommunityPolicy::max_renewals},
    {"hold_pickup_days", &CommunityPolicy::hold_pickup_days},
}};

constexpr const char* kMembershipField = "membership";

}  // namespace

nlohmann::json policy_to_json(const CommunityPolicy& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, member] : kFields) j[name] = p.*member;
  j[kMembershipField] = p.membership == Membership::approval ? "approval" : "open";
  return j;
}

CommunityPolicy policy_from_json(const nlohmann::json& j, FieldErrors& errors) {
  CommunityPolicy p;
  if (!j.is_object()) {
    errors.push_back({"policy", "doit être un objet"});
    return p;
  }
  // Named copies, not structured bindings: clang before 16 cannot capture those in the lambda.
  for (const auto& entry : j.items()) {
    const std::string& key = entry.key();
    const nlohmann::json& value = entry.value();
    if (key == kMembershipField) {
      if (value == "open" || value == "approval") {
        p.membership = value == "approval" ? Membership::approval : Membership::open;
      } else {
        errors.push_back({"policy.membership", R"("open" ou "approval" attendu)"});
      }
      continue;
    }
    auto it = std::find_if(kFields.begin(), kFields.end(),
                           [&](const PolicyField& f) { return key == f.first; });
    if (it == kFields.end()) {
      errors.push_back({"policy." + key, "champ inconnu"});
    } else if (!value.is_number_integer()) {
      errors.push_back({"policy." + key, "doit être un nombre entier"});
    } else if (value.is_number_unsigned() && value.get<uint64_t>() > 1'000'000'000ULL) {
      errors.push_back({"policy." + key, "valeur hors limites"});
    } else {
      p.*(it->second) = value.get<int64_t>();
    }
  }
  if (errors.empty()) {
    auto more = validate_policy(p);
    errors.insert(errors.end(), more.begin(), more.end());
  }
  return p;
}

}  // namespace maillon
