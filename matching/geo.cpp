// Haversine distance (exact enough at the scale of a region, error < 0.5 %) and the privacy grid.
#include "matching/geo.hpp"

#include <algorithm>
#include <cmath>

namespace maillon::matching {

double haversine_m(GeoPoint a, GeoPoint b) {
  const double dlat = (b.lat - a.lat) * kDegToRad;
  const double dlon = (b.lon - a.lon) * kDegToRad;
  const double s = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.lat * kDegToRad) * std::cos(b.lat * kDegToRad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(s)));
}

int32_t to_fixed(double degrees) {
  return static_cast<int32_t>(std::lround(degrees * 1e7));
}

double from_fixed(int32_t fixed) {
  return static_cast<double>(fixed) / 1e7;
}

GeoPoint snap_to_grid(GeoPoint point, double cell_m) {
  const double lat_step_deg = cell_m / kMetresPerDegree;
  const double row = std::floor((point.lat + 90.0) / lat_step_deg);
  const double centre_lat = (row + 0.5) * lat_step_deg - 90.0;
  // Columns follow the row's own parallel so that cells stay cell_m wide at every latitude.
  const double lon_step_deg = cell_m / (kMetresPerDegree * std::cos(centre_lat * kDegToRad));
  const double col = std::floor((point.lon + 180.0) / lon_step_deg);
  const double centre_lon = (col + 0.5) * lon_step_deg - 180.0;
  return GeoPoint{from_fixed(to_fixed(centre_lat)), from_fixed(to_fixed(centre_lon))};
}

}  // namespace maillon::matching
