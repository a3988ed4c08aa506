// The requests service is the listing service of services/offers/ configured for the request
// side. This file exists because CMake needs a source for the maillon_requests library.
#include "services/offers/listings.hpp"

namespace maillon::requests {
void register_service(Service& service) {
  listings::register_listing_service(service, ListingSide::request);
}
}  // namespace maillon::requests
