// What the routes, consumers and jobs of one listing service share: its configuration, the
// category tree, the clock, and the one way each kind of listing event is written.
#pragma once

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "exchange/categories.hpp"
#include "services/common/category_file.hpp"
#include "services/common/clock.hpp"
#include "services/common/events.hpp"
#include "services/offers/listings.hpp"
#include "services/offers/repository.hpp"

namespace maillon {
class Service;
struct Identity;
}  // namespace maillon

namespace maillon::listings {

class SearchIndex;
class ListingCreator;

struct ListingContext {
  Service& service;
  ListingServiceConfig config;
  CategoryTree tree;
  std::shared_ptr<SearchIndex> index;  // searches of active, paused and reserved listings
  Clock clock;  // the service's (tests move it through MAILLON_CLOCK_OFFSET_FILE)
  std::shared_ptr<ListingCreator> creator;  // new listings, written in batches (create_batch.hpp)

  int64_t now_s() const { return clock.now_s(); }
  // <prefix>.published or <prefix>.updated with the whole listing, in the caller's transaction.
  void publish(pqxx::work& tx, const ListingRow& row, std::string_view what) const;
  void publish_closed(pqxx::work& tx, const ListingRow& row, std::string_view reason) const;
  // <prefix>.published as its envelope, for a batch of new listings written as one outbox row
  // (create_batch.cpp), with the request id and trace context of the request that created it.
  Outbox::Written published_event(const ListingRow& row, const std::string& request_id,
                                  const std::string& traceparent) const;
  // After a commit that wrote listings: searches in this process see the write from now on.
  void written() const;
};

// The handover point of a listing: its own location, else its site's. Sets row.position and
// row.grid; false (nothing set) when the site is not one of `community_id`.
[[nodiscard]] bool place(pqxx::work& tx, ListingRow& row, const std::string& community_id);
// The same for a listing without a site: at its own location; false when it has none.
[[nodiscard]] bool place_at_location(ListingRow& row);

// Owner, staff of the listing's site, or staff of the owner's home site, in its community.
bool can_edit(const Identity& who, const ListingRow& row);
// Who to record as having acted for the owner: nobody when the owner acted alone.
std::optional<std::string> acted_by(const Identity& who, const ListingRow& row);

void register_routes(const std::shared_ptr<const ListingContext>& context);
void register_consumers(const std::shared_ptr<const ListingContext>& context);

// The category file is read by services/common/category_file.hpp; the tree goes back to the
// JSON of GET /v1/categories here.
using maillon::load_category_tree;
nlohmann::json category_tree_json(const CategoryTree& tree);

}  // namespace maillon::listings
