// Use cases of the matching service. Answers carry bucketed distances only, never another
// member's position (the handlers bucket what they show).
#include "services/matching/usecases.hpp"

#include "services/common/auth.hpp"
#include "services/common/json_body.hpp"
#include "services/common/service.hpp"

namespace maillon::matching_service {

MatchingUseCases::MatchingUseCases(Service& service, std::shared_ptr<MatchIndex> index)
    : s_(service), index_(std::move(index)) {}

bool MatchingUseCases::knows_category(const std::string& slug) const {
  return index_->knows_category(slug);
}

MatchingOutcome<std::vector<repo::MatchRow>> MatchingUseCases::matches_of_listing(
    const Identity& who, const ListingRef& listing, int limit) {
  return s_.db.transact([&](pqxx::work& tx) -> MatchingOutcome<std::vector<repo::MatchRow>> {
    const auto owner = repo::summary(tx, listing.id);
    // Someone else's listing answers as if it did not exist.
    if (!owner || owner->side != listing.side || owner->member_id != who.member_id) {
      return {MatchingCode::not_found};
    }
    return {MatchingCode::ok, repo::matches_of_listing(tx, listing.id, limit)};
  });
}

MatchingOutcome<MatchPage> MatchingUseCases::matches_of_member(const Identity& who, int64_t offset,
                                                               int limit) {
  MatchPage page;
  page.rows = s_.db.transact([&](pqxx::work& tx) {
    return repo::matches_of_member(tx, who.member_id, limit + 1, offset);
  });
  if (page.rows.size() > static_cast<std::size_t>(limit)) {
    page.rows.pop_back();
    page.next_offset = offset + limit;
  }
  return {MatchingCode::ok, std::move(page)};
}

MatchingOutcome<Done> MatchingUseCases::dismiss(const Identity& who, const std::string& match_id) {
  if (!is_uuid(match_id)) return {MatchingCode::not_found};
  const bool done =
      s_.db.transact([&](pqxx::work& tx) { return repo::dismiss(tx, match_id, who.member_id); });
  if (!done) return {MatchingCode::not_found};
  return {};
}

MatchingOutcome<std::vector<NearbyItem>> MatchingUseCases::nearby(const Identity& who,
                                                                  NearbyInput in) {
  in.community_id = who.community_id;
  in.viewer_member_id = who.member_id;
  in.now_s = s_.clock.now_s();
  const auto found = index_->nearby(in);
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (const auto& p : found) ids.push_back(p.other_id);
  const auto rows = s_.db.transact([&](pqxx::work& tx) { return repo::summaries(tx, ids); });
  std::vector<NearbyItem> items;
  for (const auto& p : found) {
    // The index may still hold a listing closed a moment ago: only active ones are shown.
    const auto row = rows.find(p.other_id);
    if (row == rows.end() || row->second.status != "active") continue;
    items.push_back({row->second, p.distance_m});
  }
  return {MatchingCode::ok, std::move(items)};
}

}  // namespace maillon::matching_service
