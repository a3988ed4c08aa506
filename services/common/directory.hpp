// The directory: one read model of communities (name, policy) and sites (community, name, kind,
// position, address, hours), fed by the members stream and kept in each reading service's own
// schema (schemas/shared/050_directory.sql, linked from each schema). Every service that needs a
// policy or a site asks here; none keeps a copy of its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/policy.hpp"

namespace pqxx {
class transaction_base;
}

namespace maillon {

struct Event;

namespace directory {

struct Community {
  std::string id;
  std::string name;
  CommunityPolicy policy;
};

struct Position {
  double lat = 0;
  double lon = 0;
};

// In the order of the site.* events' fields.
struct Site {
  std::string id;
  std::string community_id;
  std::string name;
  std::string kind;
  // Unknown only for a site recorded before the directory by a service that kept no position.
  std::optional<Position> location;
  std::string address;
  std::optional<std::string> opening_hours;
};

// Applies community.created/updated and site.created/updated (true); any other type changes
// nothing (false). An event that cannot be read throws BadEvent (dead-lettered with the reason).
// An event older than the one that last described the row changes nothing (replicas may apply
// a community's events out of order).
bool apply(pqxx::transaction_base& tx, const Event& e);

std::optional<Community> community(pqxx::transaction_base& tx, const std::string& id);
std::optional<CommunityPolicy> policy_of(pqxx::transaction_base& tx, const std::string& id);
// A policy column's text (communities.policy::text), read by a service's own statement.
CommunityPolicy stored_policy(std::string_view text);
std::vector<std::string> community_ids(pqxx::transaction_base& tx);
std::optional<Site> site(pqxx::transaction_base& tx, const std::string& id);

}  // namespace directory
}  // namespace maillon
