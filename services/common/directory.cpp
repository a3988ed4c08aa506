// The directory's SQL and its feed from the members stream (directory.hpp).
#include "services/common/directory.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <stdexcept>

#include "services/common/db.hpp"
#include "services/common/directory_sql.hpp"
#include "services/common/events.hpp"
#include "services/common/events_members.hpp"
#include "services/common/policy_json.hpp"

namespace maillon::directory {

// Stored only after reading (events_members.cpp validates the policy), so it reads back whole.
CommunityPolicy stored_policy(std::string_view text) {
  FieldErrors errors;
  CommunityPolicy policy = policy_from_json(nlohmann::json::parse(text), errors);
  if (!errors.empty()) throw std::logic_error("a stored community policy is invalid");
  return policy;
}

namespace {

CommunityPolicy stored_policy(const pqxx::field& field) {
  return directory::stored_policy(std::string_view(field.c_str()));
}

void apply_community(pqxx::transaction_base& tx, const Event& e) {
  const CommunityDescribed c = CommunityDescribed::read(e).value();
  exec_cached(tx, kUpsertCommunity, c.community_id, c.name, policy_to_json(c.policy).dump(),
              e.occurred_at);
}

void apply_site(pqxx::transaction_base& tx, const Event& e) {
  const SiteDescribed s = SiteDescribed::read(e).value();
  exec_cached(tx, kUpsertSite, s.id, s.community_id, s.name, s.kind, s.address, s.opening_hours,
              s.lat, s.lon, e.occurred_at);
}

}  // namespace

bool apply(pqxx::transaction_base& tx, const Event& e) {
  if (e.type == "community.created" || e.type == "community.updated") {
    apply_community(tx, e);
    return true;
  }
  if (e.type == "site.created" || e.type == "site.updated") {
    apply_site(tx, e);
    return true;
  }
  return false;
}

std::optional<Community> community(pqxx::transaction_base& tx, const std::string& id) {
  const pqxx::result r = exec_cached(tx, kCommunity, id);
  if (r.empty()) return std::nullopt;
  return Community{r[0][0].c_str(), r[0][1].c_str(), stored_policy(r[0][2])};
}

std::optional<CommunityPolicy> policy_of(pqxx::transaction_base& tx, const std::string& id) {
  const pqxx::result r = exec_cached(tx, kPolicy, id);
  if (r.empty()) return std::nullopt;
  return stored_policy(r[0][0]);
}

std::vector<std::string> community_ids(pqxx::transaction_base& tx) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec(kCommunityIds)) ids.emplace_back(row[0].c_str());
  return ids;
}

std::optional<Site> site(pqxx::transaction_base& tx, const std::string& id) {
  const pqxx::result r = exec_cached(tx, kSite, id);
  if (r.empty()) return std::nullopt;
  const pqxx::row row = r[0];
  Site s{row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(), {}, row[4].c_str(), {}};
  if (!row[5].is_null()) s.opening_hours = row[5].c_str();
  if (!row[6].is_null() && !row[7].is_null())
    s.location = Position{row[6].as<double>(), row[7].as<double>()};
  return s;
}

}  // namespace maillon::directory
