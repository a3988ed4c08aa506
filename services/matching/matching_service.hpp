// The matching service: the read model of listings, one in-memory engine per community built
// from it, the consumers that keep both up to date, and the /v1/matches and /v1/nearby routes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace maillon {
class Service;
}

namespace maillon::matching_service {

inline constexpr std::size_t kMatchesPerListing = 20;  // K of the top-K kept per new listing

// A row of the read model (schema matching, table listings), as the engine is fed from it.
struct ReadListing {
  std::string id;
  std::string side;  // "offer" or "request"
  std::string member_id;
  std::string community_id;
  std::string category;
  std::string kind;
  std::string mode;
  double lat = 0;  // exact handover point: never shown to anyone
  double lon = 0;
  bool at_site = false;
  int64_t reach_m = 0;
  std::optional<int64_t> available_from_s;
  std::optional<int64_t> available_until_s;
  std::string status;
  std::string title;
  std::string words;  // title and tags, separated by spaces
  int64_t created_at_s = 0;
  // Counts the row's writes (schemas/matching/003_listing_revision.sql): the index never
  // applies a row older than the one it holds, so a late read never undoes a newer write.
  int64_t revision = 0;
  // community, federation or public (exchange/listing.hpp): only the last two are matched with
  // and shown to the communities linked to this one (issue 23).
  std::string visibility = "community";
};

void register_service(Service& service);

}  // namespace maillon::matching_service
