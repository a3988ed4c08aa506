// Geographic primitives for the matching engine: a WGS84 point, the haversine distance, the
// privacy grid every stored position is snapped to. Displayed distances are bucketed by
// maillon::distance_bucket_m (exchange/listing.hpp), from the snapped distances given here.
#pragma once

#include <cstdint>

namespace maillon::matching {

struct GeoPoint {
  double lat = 0;
  double lon = 0;
  bool operator==(const GeoPoint&) const = default;
};

inline constexpr double kEarthRadiusM = 6'371'008.8;
inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kDegToRad = kPi / 180.0;
// Length of one degree of latitude (and of longitude at the equator) on that sphere.
inline constexpr double kMetresPerDegree = kEarthRadiusM * kDegToRad;

// The engine works below this latitude: its local projection's error bound (see
// kProjectionErrorRatio in engine.cpp) is proven for it, and no tiers-lieu lies beyond.
inline constexpr double kMaxAbsLatDeg = 70.0;

// Side of the privacy grid: nobody can place a listing more precisely than this.
inline constexpr double kPrivacyCellM = 250.0;

// Great-circle distance in metres on a sphere of the Earth's mean radius.
double haversine_m(GeoPoint a, GeoPoint b);

// Fixed point at 1e-7 degree (about 1 cm): positions are stored as int32 to halve memory.
// Snapped points lie exactly on this lattice, so storing them loses nothing.
int32_t to_fixed(double degrees);
double from_fixed(int32_t fixed);

// The centre of the fixed grid cell (rows of cell_m along the meridian, each row cut into
// columns of cell_m along its centre parallel) that holds `point`, rounded onto the 1e-7
// lattice. Every true position inside one cell yields the same result.
GeoPoint snap_to_grid(GeoPoint point, double cell_m = kPrivacyCellM);

}  // namespace maillon::matching
