// The federation partners' SQL and their feed from ledger.events (federation_partners.hpp).
#include "services/common/federation_partners.hpp"

#include <pqxx/pqxx>

#include "services/common/events.hpp"
#include "services/common/events_ledger.hpp"

namespace maillon::federation_partners {
namespace {

// described_at keeps the newer description: a redelivered older event changes nothing.
constexpr const char* kUpsertSide =
    "INSERT INTO federation_partners AS f (community_id, partner_community_id, link_id, state, "
    "partner_url, described_at) VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::timestamptz) "
    "ON CONFLICT (community_id, partner_community_id) DO UPDATE SET link_id = EXCLUDED.link_id, "
    "state = EXCLUDED.state, partner_url = EXCLUDED.partner_url, "
    "described_at = EXCLUDED.described_at "
    "WHERE f.described_at IS NULL OR EXCLUDED.described_at IS NULL "
    "OR f.described_at <= EXCLUDED.described_at";
// Both sides active, and the partner in this installation (its listings are in our tables).
constexpr const char* kActiveSides =
    "SELECT ours.community_id::text, ours.partner_community_id::text "
    "FROM federation_partners ours JOIN federation_partners theirs "
    "ON theirs.community_id = ours.partner_community_id "
    "AND theirs.partner_community_id = ours.community_id "
    "WHERE ours.state = 'active' AND theirs.state = 'active' AND ours.partner_url IS NULL ";
constexpr const char* kActiveOfCommunityTail =
    "AND ours.community_id = $1 ORDER BY ours.partner_community_id";
constexpr const char* kLinkedTail = "AND ours.community_id = $1 AND ours.partner_community_id = $2";

}  // namespace

bool apply(pqxx::transaction_base& tx, const Event& e) {
  if (e.type != FederationLinkUpdated::type_name()) return false;
  const FederationLinkUpdated link = FederationLinkUpdated::read(e).value();
  tx.exec_params(kUpsertSide, link.community_id, link.partner_community_id, link.link_id,
                 std::string(to_string(link.state)), link.partner_url, e.occurred_at);
  return true;
}

std::vector<std::string> active_partners(pqxx::transaction_base& tx,
                                         const std::string& community_id) {
  static const std::string kQuery = std::string(kActiveSides) + kActiveOfCommunityTail;
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(kQuery, community_id)) ids.emplace_back(row[1].c_str());
  return ids;
}

bool linked(pqxx::transaction_base& tx, const std::string& a, const std::string& b) {
  static const std::string kQuery = std::string(kActiveSides) + kLinkedTail;
  return !tx.exec_params(kQuery, a, b).empty();
}

std::unordered_map<std::string, std::vector<std::string>> all_active(pqxx::transaction_base& tx) {
  static const std::string kQuery =
      std::string(kActiveSides) + "ORDER BY ours.community_id, ours.partner_community_id";
  std::unordered_map<std::string, std::vector<std::string>> out;
  for (const auto& row : tx.exec(kQuery)) out[row[0].c_str()].emplace_back(row[1].c_str());
  return out;
}

}  // namespace maillon::federation_partners
