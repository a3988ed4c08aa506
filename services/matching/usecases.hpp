// The matching service's operations as use cases: a member's matches, dismissing one, and what is
// near a point. Typed input and the caller's identity in, a result code and a typed result out;
// no HTTP and no words (messages.cpp holds them).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "services/common/outcome.hpp"
#include "services/matching/index.hpp"
#include "services/matching/repository.hpp"

namespace maillon {
class Service;
struct Identity;
}  // namespace maillon

namespace maillon::matching_service {

// Every way a matching operation or the reading of its request ends; each code but ok has one
// row in messages.cpp.
enum class MatchingCode {
  ok,
  not_found,  // someone else's listing or match answers as if it did not exist
  // the query string
  listing_with_member,
  member_not_me,
  listing_or_member_missing,
  invalid_listing_ref,
  invalid_cursor,
  invalid_parameters,  // several field errors travel with it
  number_out_of_range,
  unknown_category,
  invalid_kind,
  query_text_too_long,
};
inline constexpr MatchingCode kMatchingCodeLast = MatchingCode::query_text_too_long;

template <class T>
using MatchingOutcome = UseCaseOutcome<MatchingCode, T>;

// "offer:<uuid>" or "request:<uuid>".
struct ListingRef {
  std::string side;
  std::string id;
};

struct MatchPage {
  std::vector<repo::MatchRow> rows;
  std::optional<int64_t> next_offset;  // where the next page starts, when there is one
};

struct NearbyItem {
  repo::ListingSummary listing;
  double distance_m = 0;  // exact between snapped points: bucket it before showing it
};

class MatchingUseCases {
 public:
  MatchingUseCases(Service& service, std::shared_ptr<MatchIndex> index);

  bool knows_category(const std::string& slug) const;
  MatchingOutcome<std::vector<repo::MatchRow>> matches_of_listing(const Identity& who,
                                                                  const ListingRef& listing,
                                                                  int limit);
  MatchingOutcome<MatchPage> matches_of_member(const Identity& who, int64_t offset, int limit);
  MatchingOutcome<Done> dismiss(const Identity& who, const std::string& match_id);
  // `in` without its community, viewer and time: the use case fills them from `who` and the
  // service's clock.
  MatchingOutcome<std::vector<NearbyItem>> nearby(const Identity& who, NearbyInput in);

 private:
  Service& s_;
  std::shared_ptr<MatchIndex> index_;
};

}  // namespace maillon::matching_service
