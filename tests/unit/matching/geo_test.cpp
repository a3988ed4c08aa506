// Geographic primitives: the privacy grid and the error bound
// of the engine's local projection that its pruning relies on.
#include <gtest/gtest.h>

#include <random>

#include "unit/matching/builders.hpp"

namespace maillon::matching {
namespace {
using namespace testing;

TEST(MatchingGeo, snapping_is_idempotent_and_lands_on_the_fixed_point_lattice) {
  const GeoPoint snapped = snap_to_grid(kLille);
  EXPECT_EQ(snap_to_grid(snapped), snapped);
  EXPECT_EQ(from_fixed(to_fixed(snapped.lat)), snapped.lat);
  EXPECT_EQ(from_fixed(to_fixed(snapped.lon)), snapped.lon);
  EXPECT_LT(haversine_m(kLille, snapped), kPrivacyCellM * 0.75);
}

// Rows are one cell tall; each row is cut along its own parallel, so columns of two rows do
// not line up, but a cell is one cell wide at every latitude.
TEST(MatchingGeo, cells_are_one_cell_tall_and_one_cell_wide) {
  for (double lat : {0.0, 43.3, 50.6, 69.0}) {
    const GeoPoint centre = snap_to_grid({lat, 3.0});
    const GeoPoint north = snap_to_grid(moved(centre, kPrivacyCellM));
    const GeoPoint east = snap_to_grid(moved(centre, 0, kPrivacyCellM));
    EXPECT_NEAR((north.lat - centre.lat) * kMetresPerDegree, kPrivacyCellM, 0.1);
    EXPECT_NEAR(haversine_m(centre, east), kPrivacyCellM, 0.1);
  }
}

// The engine's projection (cosine of one end's latitude for both) stays within 5 % of the
// haversine distance for pairs up to 150 km apart below 70° of latitude.
TEST(MatchingGeo, local_projection_error_stays_under_five_percent) {
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> lat(-kMaxAbsLatDeg, kMaxAbsLatDeg);
  std::uniform_real_distribution<double> offset_m(-106'000, 106'000);
  double worst_ratio = 0;
  for (int i = 0; i < 200'000; ++i) {
    const GeoPoint a{lat(random), 3.0};
    const GeoPoint b = moved(a, offset_m(random), offset_m(random));
    if (std::abs(b.lat) > kMaxAbsLatDeg) continue;
    const double dy = (b.lat - a.lat) * kMetresPerDegree;
    const double dx = (b.lon - a.lon) * kMetresPerDegree * std::cos(a.lat * kDegToRad);
    const double exact = haversine_m(a, b);
    worst_ratio = std::max(worst_ratio, std::abs(std::hypot(dx, dy) - exact) / exact);
  }
  EXPECT_LT(worst_ratio, 0.05);
}

}  // namespace
}  // namespace maillon::matching
