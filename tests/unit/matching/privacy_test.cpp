// Privacy: an attacker who queries from 1,000 spoofed positions around a victim's listing (as
// nearby searches and as requests of their own) gets exactly the same answers wherever the
// victim really is inside its 250 m grid cell, so the answers cannot place it more precisely.
#include <gtest/gtest.h>

#include <random>

#include "exchange/listing.hpp"
#include "unit/matching/builders.hpp"

namespace maillon::matching {
namespace {
using namespace testing;

constexpr uint64_t kVictim = 7;

// An answer names the other listing, its score and its distance: no coordinates to leak.
static_assert(sizeof(Match) == sizeof(ListingId) + 2 * sizeof(double));

struct Seen {
  ListingId id;
  int64_t shown_distance_m;
  bool operator==(const Seen&) const = default;
};

// The true positions the victim may have: inside the cell of `centre`, up to its edges.
std::vector<GeoPoint> positions_in_cell(GeoPoint centre) {
  std::vector<GeoPoint> positions;
  for (double north : {-120.0, -60.0, 0.0, 60.0, 120.0}) {
    for (double east : {-120.0, 0.0, 120.0}) positions.push_back(moved(centre, north, east));
  }
  return positions;
}

// Everything the attacker learns from its queries: the listings found and the distances shown.
std::vector<Seen> attack(GeoPoint victim_position) {
  Engine engine(small_tree());
  engine.upsert(offer(kVictim).at(victim_position).reach(2000));
  engine.upsert(
      offer(8).at(moved(kLille, 700, -300)));  // another listing: answers are not the victim alone
  std::mt19937_64 random(2024);
  std::uniform_real_distribution<double> offset_m(-2500, 2500);
  std::vector<Seen> seen;
  for (int q = 0; q < 1000; ++q) {
    const GeoPoint spoofed = moved(kLille, offset_m(random), offset_m(random));
    NearbyQuery query{.at = spoofed, .radius_m = uint32_t(500 + q % 5 * 500), .now_s = kNow};
    for (const Match& m : engine.nearby(query)) {
      seen.push_back({m.other, distance_bucket_m(m.distance_m)});
    }
    const Listing probe = request(1000 + uint64_t(q)).at(spoofed).reach(query.radius_m);
    for (const Match& m : engine.top_matches(probe, 20, kNow)) {
      seen.push_back({m.other, distance_bucket_m(m.distance_m)});
    }
  }
  return seen;
}

TEST(MatchingPrivacy, spoofed_queries_cannot_place_a_listing_within_its_grid_cell) {
  const GeoPoint cell_centre = snap_to_grid(kLille);
  const std::vector<Seen> reference = attack(cell_centre);
  const auto victim_sightings = std::count_if(reference.begin(), reference.end(),
                                              [](const Seen& s) { return s.id == id(kVictim); });
  ASSERT_GT(victim_sightings, 300);  // the attack does see the victim, often
  for (GeoPoint truth : positions_in_cell(cell_centre)) {
    ASSERT_EQ(snap_to_grid(truth), cell_centre);
    EXPECT_EQ(attack(truth), reference);
  }
}

}  // namespace
}  // namespace maillon::matching
