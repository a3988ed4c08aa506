// The federation's SQL statements, as named constants, and the row <-> Link conversions.
#include "services/ledger/federation_repository.hpp"

#include <algorithm>
#include <stdexcept>

#include "services/common/db.hpp"
#include "services/ledger/federation_repository_sql.hpp"

namespace maillon::ledger::federation::repo {
namespace {

const std::string kSelectLink = std::string("SELECT ") + kLinkColumns +
                                " FROM federation_links WHERE id = $1::uuid AND community_id = "
                                "$2::uuid";
const std::string kSelectLinkBetween = std::string("SELECT ") + kLinkColumns +
                                       " FROM federation_links WHERE community_id = $1::uuid "
                                       "AND partner_community_id = $2::uuid";
const std::string kSelectLinkSides = std::string("SELECT ") + kLinkColumns +
                                     " FROM federation_links WHERE id = $1::uuid "
                                     "ORDER BY community_id";
const std::string kSelectLinksOf = std::string("SELECT ") + kLinkColumns +
                                   " FROM federation_links WHERE community_id = $1::uuid "
                                   "ORDER BY created_at, id LIMIT $2";

const std::string kUpdateLinkState =
    std::string(
        "UPDATE federation_links SET state = $3, updated_at = now(), "
        "accepted = accepted OR $3 = 'active', "
        "debit_limit_minutes = COALESCE($4::bigint, debit_limit_minutes), "
        "credit_limit_minutes = COALESCE($5::bigint, credit_limit_minutes) "
        "WHERE id = $1::uuid AND community_id = $2::uuid RETURNING ") +
    kLinkColumns;

const std::string kUpdateLinkSuspension =
    std::string(
        "UPDATE federation_links SET state = $3, suspended_by_us = $4, "
        "suspended_by_partner = $5, accepted = $6, suspension_seq = $7, "
        "partner_suspension_seq = $8, updated_at = now() "
        "WHERE id = $1::uuid AND community_id = $2::uuid RETURNING ") +
    kLinkColumns;

Link link_from_row(const pqxx::row& row) {
  Link l;
  std::string state;
  read_columns(row, l.id, l.community_id, l.partner_community_id, l.partner_url, state,
               l.proposed_by_us, l.debit_limit_minutes, l.credit_limit_minutes, l.rate_micro);
  const auto parsed = federation_link_state_from_string(state);
  if (!parsed) throw std::logic_error("unknown federation link state in the ledger table");
  l.state = *parsed;
  std::optional<std::string> key_hex;
  read_columns_from(row, 9, key_hex, l.created_at_us, l.updated_at_us, l.suspended_by_us,
                    l.suspended_by_partner, l.accepted, l.suspension_seq, l.partner_suspension_seq);
  if (key_hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < key_hex->size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(key_hex->substr(i, 2), nullptr, 16)));
    }
    l.partner_public_key = std::move(bytes);
  }
  return l;
}

std::optional<Link> first_link(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return link_from_row(r[0]);
}

std::string hex_of(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xf]);
  }
  return hex;
}

std::optional<int64_t> debit_of(const std::optional<ClearingLimits>& limits) {
  if (!limits) return std::nullopt;
  return limits->debit_limit_minutes;
}
std::optional<int64_t> credit_of(const std::optional<ClearingLimits>& limits) {
  if (!limits) return std::nullopt;
  return limits->credit_limit_minutes;
}

}  // namespace

std::optional<Link> select_link(pqxx::work& tx, const std::string& link_id,
                                const std::string& community_id) {
  return first_link(exec_cached(tx, kSelectLink, link_id, community_id));
}

std::optional<Link> select_link_between(pqxx::work& tx, const std::string& community_id,
                                        const std::string& partner_community_id) {
  return first_link(exec_cached(tx, kSelectLinkBetween, community_id, partner_community_id));
}

std::vector<Link> select_link_sides(pqxx::work& tx, const std::string& link_id) {
  std::vector<Link> sides;
  for (const auto& row : exec_cached(tx, kSelectLinkSides, link_id))
    sides.push_back(link_from_row(row));
  return sides;
}

std::vector<Link> select_links_of(pqxx::work& tx, const std::string& community_id, int limit) {
  std::vector<Link> links;
  for (const auto& row : exec_cached(tx, kSelectLinksOf, community_id, limit))
    links.push_back(link_from_row(row));
  return links;
}

std::size_t count_links_of(pqxx::work& tx, const std::string& community_id) {
  return exec_cached(tx, kCountLinksOf, community_id)[0][0].as<std::size_t>();
}

bool insert_link(pqxx::work& tx, const Link& side) {
  return exec_cached(tx, kInsertLink, side.id, side.community_id, side.partner_community_id,
                     side.partner_url, std::string(to_string(side.state)), side.proposed_by_us,
                     side.debit_limit_minutes, side.credit_limit_minutes, side.rate_micro)
             .affected_rows() == 1;
}

std::optional<Link> update_link_state(pqxx::work& tx, const std::string& link_id,
                                      const std::string& community_id, const std::string& state,
                                      std::optional<ClearingLimits> limits) {
  return first_link(exec_cached(tx, kUpdateLinkState, link_id, community_id, state,
                                debit_of(limits), credit_of(limits)));
}

std::optional<Link> update_link_suspension(pqxx::work& tx, const Link& side) {
  return first_link(exec_cached(tx, kUpdateLinkSuspension, side.id, side.community_id,
                                std::string(to_string(side.state_after_suspension())),
                                side.suspended_by_us, side.suspended_by_partner, side.accepted,
                                side.suspension_seq, side.partner_suspension_seq));
}

void lock_link(pqxx::work& tx, const std::string& link_id) {
  exec_cached(tx, kLockLink, link_id);
}

void update_partner_key(pqxx::work& tx, const std::string& link_id, const std::string& community_id,
                        const std::string& key_bytes) {
  exec_cached(tx, kUpdatePartnerKey, link_id, community_id, hex_of(key_bytes));
}

void open_clearing_account(pqxx::work& tx, const std::string& community_id,
                           const std::string& partner_community_id) {
  exec_cached(tx, kOpenClearingAccount, clearing_account_id(community_id, partner_community_id),
              community_id);
}

std::optional<Account> clearing_account(pqxx::work& tx, const std::string& community_id,
                                        const std::string& partner_community_id) {
  const auto r = exec_cached(tx, kSelectClearingAccount,
                             clearing_account_id(community_id, partner_community_id));
  if (r.empty()) return std::nullopt;
  return Account{r[0][0].c_str(), r[0][1].as<bool>(), r[0][2].as<int64_t>(), r[0][3].as<int64_t>(),
                 r[0][4].as<int64_t>()};
}

std::vector<ClearingLeg> clearing_legs(pqxx::work& tx, const std::string& community_id,
                                       const std::string& partner_community_id) {
  std::vector<ClearingLeg> legs;
  const std::string account = clearing_account_id(community_id, partner_community_id);
  for (const auto& row : exec_cached(tx, kSelectClearingLegs, community_id, account,
                                     static_cast<int64_t>(kClearingLegsMax + 1))) {
    ClearingLeg leg;
    read_columns(row, leg.id, leg.paid_across);
    const auto state = transfer_state_from_string(row[2].c_str());
    if (!state) throw std::logic_error("unknown transfer state in the ledger table");
    leg.state = *state;
    read_columns_from(row, 3, leg.amount_minutes, leg.posted_minutes);
    legs.push_back(std::move(leg));
  }
  return legs;
}

std::optional<std::string> community_name(pqxx::work& tx, const std::string& community_id) {
  const auto r = exec_cached(tx, kCommunityName, community_id);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

void lock_communities(pqxx::work& tx, std::vector<std::string> community_ids) {
  std::sort(community_ids.begin(), community_ids.end());
  community_ids.erase(std::unique(community_ids.begin(), community_ids.end()), community_ids.end());
  for (const auto& id : community_ids) exec_cached(tx, kLockCommunity, id);
}

std::vector<std::pair<std::string, TransferId>> mirror_legs_of(pqxx::work& tx,
                                                               const std::string& community_id,
                                                               const std::vector<TransferId>& ids) {
  std::vector<std::pair<std::string, TransferId>> mirrors;
  if (ids.empty()) return mirrors;
  for (const auto& row : exec_cached(tx, kMirrorLegs, community_id, array_literal(ids))) {
    mirrors.emplace_back(clearing_partner(row[0].c_str()), row[1].c_str());
  }
  return mirrors;
}

}  // namespace maillon::ledger::federation::repo
