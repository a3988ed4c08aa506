// What the matching engine knows of a listing (an offer or a request), and the pure rules
// that decide whether two listings can meet: category relation, modes, windows.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>

#include "matching/geo.hpp"

namespace maillon::matching {

// A listing's UUID as a 128-bit value; the service maps UUID strings to and from it.
struct ListingId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 reads the defaulted <=> as a 0 literal
  auto operator<=>(const ListingId&) const = default;
};

using MemberIndex = uint32_t;  // compact member handle assigned by the service
using CategoryId = uint16_t;   // index into the category tree given to the engine

enum class Side : uint8_t { offer = 0, request = 1 };
enum class Kind : uint8_t { good = 0, service = 1 };
enum class Mode : uint8_t { give = 0, lend = 1, swap = 2, service = 3 };
enum class Status : uint8_t { active, paused, reserved, closed, expired };

// Title and tag words as 32-bit hashes (0 = empty). The engine treats them as a set.
inline constexpr std::size_t kMaxWords = 8;
using Words = std::array<uint32_t, kMaxWords>;

// Reach and search radius are bounded so that a query visits a bounded area.
inline constexpr uint32_t kMaxReachM = 100'000;

struct Listing {
  ListingId id;
  Side side = Side::offer;
  MemberIndex member = 0;
  CategoryId category = 0;
  Kind kind = Kind::good;
  Mode mode = Mode::give;
  GeoPoint position;             // the owner's location; snapped by the engine
  std::optional<GeoPoint> site;  // handover site, when the listing is handed over there
  uint32_t reach_m = 0;          // how far the owner goes (or lets the other come)
  int64_t available_from_s = 0;  // availability window [from, until), unix seconds
  int64_t available_until_s = 0;
  Status status = Status::active;
  int64_t created_at_s = 0;
  Words words{};
};

// Where the handover happens: the site when there is one, the owner's location otherwise;
// always on the privacy grid. Every distance the engine computes starts from here.
GeoPoint handover_point(const Listing& listing);

// A request to borrow (`lend`) meets offers to lend or to give; every other mode meets only
// itself (give-give, swap-swap, service-service).
bool modes_compatible(Mode offer_mode, Mode request_mode);

// Half-open windows [from, until) overlap when each starts before the other ends.
inline bool windows_overlap(int64_t a_from_s, int64_t a_until_s, int64_t b_from_s,
                            int64_t b_until_s) {
  return a_from_s < b_until_s && b_from_s < a_until_s;
}

}  // namespace maillon::matching
