// Small builders for matching tests: a listing near Lille with sensible defaults, changed one
// field at a time, and a category tree (0 outils > 1 perceuses > 2 visseuses; 3 jardin alone).
#pragma once

#include <cmath>
#include <vector>

#include "matching/engine.hpp"

namespace maillon::matching::testing {

inline constexpr GeoPoint kLille{50.6292, 3.0573};
inline constexpr int64_t kNow = 1'750'000'000;
inline constexpr int64_t kDay = 86'400;

inline std::vector<CategoryId> small_tree() {
  return {kNoParent, 0, 1, kNoParent};
}

// A point `metres_north` and `metres_east` of `from`.
inline GeoPoint moved(GeoPoint from, double metres_north, double metres_east = 0) {
  return GeoPoint{from.lat + metres_north / kMetresPerDegree,
                  from.lon + metres_east / (kMetresPerDegree * std::cos(from.lat * kDegToRad))};
}

class ListingBuilder {
 public:
  ListingBuilder(Side side, uint64_t id) {
    l_.id = ListingId{0, id};
    l_.side = side;
    l_.member = static_cast<MemberIndex>(id);
    l_.category = 1;
    l_.mode = Mode::lend;
    l_.position = kLille;
    l_.reach_m = 3000;
    l_.available_from_s = kNow - kDay;
    l_.available_until_s = kNow + 30 * kDay;
    l_.created_at_s = kNow - kDay;
  }
  ListingBuilder& member(MemberIndex m) { return l_.member = m, *this; }
  ListingBuilder& category(CategoryId c) { return l_.category = c, *this; }
  ListingBuilder& mode(Mode m) {
    l_.kind = m == Mode::service ? Kind::service : Kind::good;
    return l_.mode = m, *this;
  }
  ListingBuilder& at(GeoPoint p) { return l_.position = p, *this; }
  ListingBuilder& site(GeoPoint p) { return l_.site = p, *this; }
  ListingBuilder& reach(uint32_t m) { return l_.reach_m = m, *this; }
  ListingBuilder& window(int64_t from_s, int64_t until_s) {
    l_.available_from_s = from_s;
    l_.available_until_s = until_s;
    return *this;
  }
  ListingBuilder& status(Status s) { return l_.status = s, *this; }
  ListingBuilder& created(int64_t at_s) { return l_.created_at_s = at_s, *this; }
  ListingBuilder& words(Words w) { return l_.words = w, *this; }
  Listing build() const { return l_; }
  operator Listing() const { return l_; }

 private:
  Listing l_;
};

inline ListingBuilder offer(uint64_t id) {
  return ListingBuilder(Side::offer, id);
}
inline ListingBuilder request(uint64_t id) {
  return ListingBuilder(Side::request, id);
}

inline std::vector<ListingId> ids_of(const std::vector<Match>& matches) {
  std::vector<ListingId> ids;
  for (const Match& m : matches) ids.push_back(m.other);
  return ids;
}

inline ListingId id(uint64_t n) {
  return ListingId{0, n};
}

}  // namespace maillon::matching::testing
