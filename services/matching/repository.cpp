// SQL of the matching service, one named statement per action.
#include "services/matching/repository.hpp"

#include <algorithm>
#include <charconv>
#include <climits>

#include "exchange/listing.hpp"
#include "services/common/change_feed.hpp"
#include "services/common/db.hpp"
#include "services/matching/repository_sql.hpp"

namespace maillon::matching_service::repo {
namespace {

ReadListing read_listing(const pqxx::row& r) {
  ReadListing l;
  read_columns(r, l.id, l.side, l.member_id, l.community_id, l.category, l.kind, l.mode, l.lat,
               l.lon, l.at_site, l.reach_m, l.available_from_s, l.available_until_s, l.status,
               l.title, l.words, l.created_at_s, l.revision, l.visibility);
  return l;
}

// The exact position is rounded here, so that it never leaves the repository.
ListingSummary read_summary(const pqxx::row& r) {
  return {r[0].c_str(),
          r[1].c_str(),
          r[2].c_str(),
          r[3].c_str(),
          r[4].c_str(),
          r[5].c_str(),
          r[6].c_str(),
          r[7].c_str(),
          coarse_degrees(r[8].as<double>()),
          coarse_degrees(r[9].as<double>())};
}

MatchRow read_match(const pqxx::row& r) {
  return {r[0].c_str(), r[1].c_str(),      r[2].c_str(),       r[3].c_str(), r[4].c_str(),
          r[5].c_str(), r[6].as<double>(), r[7].as<int64_t>(), r[8].c_str()};
}

// The shortest text that reads back as the same double (scores keep their full precision).
std::string shortest_text(double value) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return std::string(buffer, end);
}

}  // namespace

std::optional<ReadListing> upsert_listing(pqxx::work& tx, const ListingWrite& w) {
  const ReadListing& l = w.listing;
  const auto r = exec_cached(tx, std::string(kUpsertListing) + kListingColumns, l.id, l.side,
                             l.member_id, l.community_id, l.category, l.kind, l.mode, l.lat, l.lon,
                             w.site_id, l.at_site, l.reach_m, w.available_from, w.available_until,
                             l.status, l.title, l.words, w.created_at, w.updated_at, l.visibility);
  if (r.empty()) return std::nullopt;
  return read_listing(r[0]);
}

std::optional<ReadListing> upsert_partner_listing(pqxx::work& tx, const ListingWrite& w,
                                                  const std::string& partner_url,
                                                  int64_t partner_revision, int64_t cap) {
  const ReadListing& l = w.listing;
  if (exec_cached(tx, kOpenPartnerCopies, l.community_id, cap)[0][0].as<int64_t>() >= cap)
    return std::nullopt;
  const auto r = exec_cached(tx, std::string(kUpsertPartnerListing) + kListingColumns, l.id,
                             l.member_id, l.community_id, l.category, l.kind, l.mode, l.lat, l.lon,
                             l.reach_m, w.available_from, w.available_until, l.title, l.words,
                             w.created_at, l.visibility, partner_url, partner_revision);
  if (r.empty()) return std::nullopt;
  return read_listing(r[0]);
}

std::optional<std::string> withdraw_partner_listing(pqxx::work& tx, const std::string& id,
                                                    const std::string& partner_url,
                                                    int64_t partner_revision) {
  const auto r = exec_cached(tx, kWithdrawPartnerListing, id, partner_url, partner_revision);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

std::optional<std::string> close_listing(pqxx::work& tx, const std::string& id,
                                         const std::string& status) {
  const auto r = exec_cached(tx, kCloseListing, id, status);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

std::vector<ReadListing> close_listings_of_member(pqxx::work& tx, const std::string& member_id) {
  std::vector<ReadListing> out;
  for (const auto& row :
       exec_cached(tx, std::string(kCloseListingsOfMember) + kListingColumns, member_id)) {
    out.push_back(read_listing(row));
  }
  return out;
}

std::vector<ReadListing> active_listings(pqxx::work& tx) {
  std::vector<ReadListing> out;
  for (const auto& row : tx.exec(std::string("SELECT ") + kListingColumns + kActiveListings)) {
    out.push_back(read_listing(row));
  }
  return out;
}

std::vector<ReadListing> crossing_listings_of(pqxx::transaction_base& tx,
                                              const std::vector<std::string>& community_ids) {
  std::vector<ReadListing> out;
  if (community_ids.empty()) return out;
  static const std::string kQuery = std::string("SELECT ") + kListingColumns + kCrossingListingsOf;
  for (const auto& row : exec_cached(tx, kQuery, array_literal(community_ids))) {
    out.push_back(read_listing(row));
  }
  return out;
}

std::string feed_position(pqxx::transaction_base& tx) {
  return tx.exec(change_feed::kPosition).at(0)[0].c_str();
}

std::pair<std::vector<ReadListing>, std::string> index_feed(pqxx::transaction_base& tx,
                                                            const std::string& since) {
  static const std::string kFeed = std::string("SELECT ") + kListingColumns + ", " +
                                   change_feed::kNextPosition + change_feed::kListingsSince +
                                   " ORDER BY listings.id";
  std::pair<std::vector<ReadListing>, std::string> out;
  const auto r = exec_cached(tx, kFeed, since);
  out.second = r.at(0)["next_xact"].c_str();
  for (const auto& row : r) {
    if (!row[0].is_null()) out.first.push_back(read_listing(row));
  }
  return out;
}

std::map<std::string, int64_t> lock_active_revisions(pqxx::work& tx,
                                                     const std::vector<std::string>& ids) {
  std::map<std::string, int64_t> out;
  if (ids.empty()) return out;
  const auto r = exec_cached(
      tx,
      "SELECT id::text, revision FROM listings "
      "WHERE id = ANY($1::uuid[]) AND status = 'active' ORDER BY id FOR SHARE SKIP LOCKED",
      array_literal(ids));
  for (const auto& row : r) out.emplace(row[0].c_str(), row[1].as<int64_t>());
  return out;
}

std::map<std::string, ListingSummary> summaries(pqxx::work& tx,
                                                const std::vector<std::string>& ids) {
  std::map<std::string, ListingSummary> out;
  if (ids.empty()) return out;
  const auto r = exec_cached(tx, std::string(kSummaryColumns) + "WHERE id = ANY($1::uuid[])",
                             array_literal(ids));
  for (const auto& row : r) out.emplace(row[0].c_str(), read_summary(row));
  return out;
}

std::optional<ListingSummary> summary(pqxx::work& tx, const std::string& id) {
  const auto r = exec_cached(tx, std::string(kSummaryColumns) + "WHERE id = $1::uuid", id);
  if (r.empty()) return std::nullopt;
  return read_summary(r[0]);
}

std::set<std::string> upsert_matches(pqxx::work& tx, const std::vector<MatchRow>& matches) {
  std::set<std::string> added;
  if (matches.empty()) return added;
  ArrayColumns columns(8);
  for (const MatchRow& m : matches) {
    columns.add_values(m.id, m.community_id, m.offer_id, m.request_id, m.offer_member_id,
                       m.request_member_id, shortest_text(m.score), m.distance_m);
    columns.end_row();
  }
  const auto a = columns.texts();
  const auto r = exec_cached(tx, kUpsertMatches, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  for (const auto& row : r) {
    if (row[1].as<bool>()) added.emplace(row[0].c_str());
  }
  return added;
}

std::vector<std::string> proposed_counterparts(pqxx::work& tx, const std::string& listing_id) {
  std::vector<std::string> out;
  for (const auto& row : exec_cached(tx, kProposedCounterparts, listing_id)) {
    out.emplace_back(row[0].c_str());
  }
  return out;
}

std::size_t delete_proposed_matches(pqxx::work& tx, const std::string& listing_id,
                                    const std::vector<std::string>& other_ids) {
  if (other_ids.empty()) return 0;
  return static_cast<std::size_t>(
      exec_cached(tx, kDeleteProposedMatches, listing_id, array_literal(other_ids))
          .affected_rows());
}

std::vector<MatchRow> matches_of_listing(pqxx::work& tx, const std::string& listing_id, int limit) {
  std::vector<MatchRow> out;
  for (const auto& row :
       exec_cached(tx, std::string(kMatchColumns) + kMatchesOfListingWhere, listing_id, limit)) {
    out.push_back(read_match(row));
  }
  return out;
}

std::vector<MatchRow> matches_of_member(pqxx::work& tx, const std::string& member_id, int limit,
                                        int64_t offset) {
  std::vector<MatchRow> out;
  for (const auto& row : exec_cached(tx, std::string(kMatchColumns) + kMatchesOfMemberWhere,
                                     member_id, limit, offset)) {
    out.push_back(read_match(row));
  }
  return out;
}

bool dismiss(pqxx::work& tx, const std::string& match_id, const std::string& member_id) {
  return exec_cached(tx, kDismiss, match_id, member_id).affected_rows() == 1;
}

std::pair<int64_t, int64_t> count_exchange(pqxx::work& tx, const std::string& member_id,
                                           bool completed) {
  const auto r = exec_cached(tx, kCountExchange, member_id, completed ? 1 : 0, completed ? 0 : 1);
  return {r[0][0].as<int64_t>(), r[0][1].as<int64_t>()};
}

namespace {

std::map<std::string, std::pair<int64_t, int64_t>> reliability_counts(const pqxx::result& result) {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  for (const auto& row : result) {
    out[row[0].c_str()] = {row[1].as<int64_t>(), row[2].as<int64_t>()};
  }
  return out;
}

std::map<std::string, uint32_t> proposal_counts(const pqxx::result& result) {
  std::map<std::string, uint32_t> out;
  for (const auto& row : result) {
    out[row[0].c_str()] =
        static_cast<uint32_t>(std::clamp<int64_t>(row[1].as<int64_t>(), 0, INT32_MAX));
  }
  return out;
}

}  // namespace

std::map<std::string, uint32_t> count_proposals(pqxx::work& tx,
                                                const std::vector<std::string>& member_ids) {
  if (member_ids.empty()) return {};
  return proposal_counts(exec_cached(tx, kCountProposals, array_literal(member_ids)));
}

std::map<std::string, uint32_t> all_recent_proposals(pqxx::work& tx) {
  tx.exec(kForgetOldProposals);
  return proposal_counts(tx.exec(kAllProposals));
}

std::map<std::string, uint32_t> proposals_since(pqxx::transaction_base& tx,
                                                const std::string& since) {
  return proposal_counts(exec_cached(tx, kProposalsSince, since));
}

std::map<std::string, std::pair<int64_t, int64_t>> all_reliability(pqxx::work& tx) {
  return reliability_counts(tx.exec(kAllReliability));
}

std::map<std::string, std::pair<int64_t, int64_t>> reliability_since(pqxx::transaction_base& tx,
                                                                     const std::string& since) {
  return reliability_counts(exec_cached(tx, kReliabilitySince, since));
}

}  // namespace maillon::matching_service::repo
