// The pure pairing rules of listings, shared by the index and by anyone who checks it.
#include "matching/listing.hpp"

namespace maillon::matching {

GeoPoint handover_point(const Listing& listing) {
  return snap_to_grid(listing.site.value_or(listing.position));
}

bool modes_compatible(Mode offer_mode, Mode request_mode) {
  if (request_mode == Mode::lend) return offer_mode == Mode::lend || offer_mode == Mode::give;
  return offer_mode == request_mode;
}

}  // namespace maillon::matching
