// The listing service, written once and run twice: maillon-offers and maillon-requests are this
// code configured for one side each (their schema, stream, event names and path differ).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "exchange/listing.hpp"

namespace maillon {
class Service;
}

namespace maillon::listings {

struct ListingServiceConfig {
  ListingSide side = ListingSide::offer;
  std::string schema;             // "offers": set by main through run_service
  std::string stream;             // "offers": where <prefix>.published/updated/closed go
  std::string event_prefix;       // "offer"
  std::string path;               // "/v1/offers"
  std::string exchange_field;     // the id field of exchange events naming this side: "offer_id"
  bool serve_categories = false;  // GET /v1/categories: once is enough, the offers service does
  std::chrono::milliseconds expiry_interval{30'000};
  // How often the search read model reads what other processes wrote (this one's own writes
  // are read at once): the staleness bound of a search served by another replica.
  std::chrono::milliseconds search_poll_interval{100};
};

// The configuration of one side; the expiry interval may be shortened with
// MAILLON_EXPIRY_INTERVAL_MS and the search poll with MAILLON_SEARCH_POLL_MS (tests), read through
// Config here because they only concern listings.
ListingServiceConfig listing_service_config(ListingSide side);

// Routes, the members and exchanges consumers and the expiry job of one side. Loads the category
// tree from <schemas_dir>/categories.json; a missing or invalid file stops the start-up.
void register_listing_service(Service& service, const ListingServiceConfig& config);
void register_listing_service(Service& service, ListingSide side);

}  // namespace maillon::listings

namespace maillon::offers {
void register_service(Service& service);  // the offer side
}  // namespace maillon::offers

namespace maillon::requests {
void register_service(Service& service);  // the request side (services/requests/requests.cpp)
}  // namespace maillon::requests
