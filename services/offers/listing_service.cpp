// Wiring of one listing service: its side's configuration, the category tree, the shared
// helpers of context.hpp, then routes, consumers and jobs.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "matching/geo.hpp"
#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/events.hpp"
#include "services/common/ids.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/offers/context.hpp"
#include "services/offers/create_batch.hpp"
#include "services/offers/depot_items.hpp"
#include "services/offers/listing_json.hpp"
#include "services/offers/search_index.hpp"

namespace maillon::listings {
namespace {

constexpr std::chrono::milliseconds kIntervalMin{100};
constexpr std::chrono::milliseconds kIntervalMax{3'600'000};

nlohmann::json subtree_json(const CategoryTree& tree, const std::string& slug) {
  const Category* c = tree.find(slug);
  nlohmann::json children = nlohmann::json::array();
  for (const auto& child : c->children) children.push_back(subtree_json(tree, child));
  return {
      {"slug", c->slug}, {"label", c->label}, {"kind", to_string(c->kind)}, {"children", children}};
}

}  // namespace

ListingServiceConfig listing_service_config(ListingSide side) {
  ListingServiceConfig c;
  c.side = side;
  bool offer = side == ListingSide::offer;
  c.schema = offer ? "offers" : "requests";
  c.stream = c.schema;
  c.event_prefix = std::string(to_string(side));
  c.path = "/v1/" + c.schema;
  c.exchange_field = c.event_prefix + "_id";
  c.serve_categories = offer;
  c.expiry_interval = Config::duration_ms("MAILLON_EXPIRY_INTERVAL_MS", c.expiry_interval,
                                          kIntervalMin, kIntervalMax);
  c.search_poll_interval = Config::duration_ms("MAILLON_SEARCH_POLL_MS", c.search_poll_interval,
                                               kIntervalMin, kIntervalMax);
  return c;
}

nlohmann::json category_tree_json(const CategoryTree& tree) {
  nlohmann::json roots = nlohmann::json::array();
  for (const auto& slug : tree.roots()) roots.push_back(subtree_json(tree, slug));
  return roots;
}

void ListingContext::publish(pqxx::work& tx, const ListingRow& row, std::string_view what) const {
  service.outbox.add(tx, config.stream, config.event_prefix + "." + std::string(what),
                     row.listing.community_id, listing_event_data(row));
}

void ListingContext::publish_closed(pqxx::work& tx, const ListingRow& row,
                                    std::string_view reason) const {
  service.outbox.add(tx, config.stream, config.event_prefix + ".closed", row.listing.community_id,
                     closed_event_data(row, reason));
}

Outbox::Written ListingContext::published_event(const ListingRow& row,
                                                const std::string& request_id,
                                                const std::string& traceparent) const {
  Event e;
  e.id = new_uuid();
  e.type = config.event_prefix + ".published";
  e.occurred_at = now_rfc3339();
  e.community_id = row.listing.community_id;
  e.data = listing_event_data(row);
  e.request_id = request_id;
  e.traceparent = traceparent;
  return {e.id, e.to_json()};
}

void ListingContext::written() const {
  try {
    index->catch_up();
  } catch (const std::exception& e) {
    // The write is committed; the poller brings it in within its interval.
    log::warn("search read model: catch-up after a write failed", {{"error", e.what()}});
  }
}

namespace {

void set_position(ListingRow& row, const ListingLocation& position) {
  row.position = position;
  matching::GeoPoint snapped = matching::snap_to_grid({position.lat, position.lon});
  row.grid = {snapped.lat, snapped.lon};
}

}  // namespace

bool place(pqxx::work& tx, ListingRow& row, const std::string& community_id) {
  std::optional<SiteRow> site;
  if (row.listing.site_id) {
    site = find_site(tx, *row.listing.site_id);
    if (!site || site->community_id != community_id) return false;
  }
  set_position(row, row.listing.location ? *row.listing.location : site->location);
  return true;
}

bool place_at_location(ListingRow& row) {
  if (!row.listing.location) return false;
  set_position(row, *row.listing.location);
  return true;
}

bool can_edit(const Identity& who, const ListingRow& row) {
  if (who.community_id != row.listing.community_id) return false;
  if (is_depot_listing(row.listing)) return false;  // changed only through the depot
  if (who.member_id == row.listing.member_id) return true;
  if (row.listing.site_id && who.is_staff_of(*row.listing.site_id)) return true;
  return !row.home_site_id.empty() && who.is_staff_of(row.home_site_id);
}

std::optional<std::string> acted_by(const Identity& who, const ListingRow& row) {
  const std::string& actor = who.actor_id();
  if (actor == row.listing.member_id) return std::nullopt;
  return actor;
}

void register_listing_service(Service& service, const ListingServiceConfig& config) {
  CategoryTree tree = load_category_tree(service.config.schemas_dir + "/categories.json");
  auto index = std::make_shared<SearchIndex>(service.db, config.search_poll_interval);
  service.on_start([index] { index->start(); });
  auto context = std::make_shared<const ListingContext>(
      ListingContext{service, config, std::move(tree), std::move(index), service.clock,
                     std::make_shared<ListingCreator>()});
  register_routes(context);
  register_consumers(context);
}

void register_listing_service(Service& service, ListingSide side) {
  register_listing_service(service, listing_service_config(side));
}

}  // namespace maillon::listings

namespace maillon::offers {
void register_service(Service& service) {
  listings::register_listing_service(service, ListingSide::offer);
}
}  // namespace maillon::offers
