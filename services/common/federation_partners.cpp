// The federation partners' SQL and their feed from ledger.events (federation_partners.hpp).
#include "services/common/federation_partners.hpp"

#include <pqxx/pqxx>

#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/federation_partners_sql.hpp"

namespace maillon::federation_partners {

bool apply(pqxx::transaction_base& tx, const Event& e) {
  if (e.type != FederationLinkUpdated::type_name()) return false;
  const FederationLinkUpdated link = FederationLinkUpdated::read(e).value();
  exec_cached(tx, kUpsertSide, link.community_id, link.partner_community_id, link.link_id,
              std::string(to_string(link.state)), link.partner_url, e.occurred_at);
  return true;
}

std::vector<std::string> active_partners(pqxx::transaction_base& tx,
                                         const std::string& community_id) {
  static const std::string kQuery = std::string(kActiveSides) + kActiveOfCommunityTail;
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(tx, kQuery, community_id)) ids.emplace_back(row[1].c_str());
  return ids;
}

bool linked(pqxx::transaction_base& tx, const std::string& a, const std::string& b) {
  static const std::string kQuery = std::string(kActiveSides) + kLinkedTail;
  return !exec_cached(tx, kQuery, a, b).empty();
}

std::unordered_map<std::string, std::vector<std::string>> all_active(pqxx::transaction_base& tx) {
  static const std::string kQuery =
      std::string(kActiveSides) + "ORDER BY ours.community_id, ours.partner_community_id";
  std::unordered_map<std::string, std::vector<std::string>> out;
  for (const auto& row : tx.exec(kQuery)) out[row[0].c_str()].emplace_back(row[1].c_str());
  return out;
}

}  // namespace maillon::federation_partners
