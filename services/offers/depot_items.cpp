// Depot items as offers: each item.* event of the `depot` stream sets the status of the item's
// listing (created at the first event), in the transaction that records the event: exactly once.
#include "services/offers/depot_items.hpp"

#include <stdexcept>
#include <vector>

#include "matching/geo.hpp"
#include "services/common/events.hpp"
#include "services/common/events_depot.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/offers/context.hpp"

namespace maillon::listings {
namespace {

// One statement settles the order: it writes only when the event is newer than the revision
// held (or the item is new), so a redelivered or late event affects no row.
constexpr const char* kAdvanceItem =
    "INSERT INTO depot_items (item_id, site_id, revision) VALUES ($1, $2, $3) "
    "ON CONFLICT (item_id) DO UPDATE SET revision = EXCLUDED.revision "
    "WHERE depot_items.revision < EXCLUDED.revision";

constexpr size_t kPhotosMax = 10;  // what the depot accepts at intake

// What an item.* event says of the item (schemas/events/item.schema.json).
struct ItemSnapshot {
  std::string id;
  std::string site_id;
  std::string community_id;
  std::string category;
  std::string title;
  std::string description;
  ListingMode mode = ListingMode::give;
  std::vector<std::string> photos;
  std::string status;
  int64_t revision = 0;
};

// A depot item as a listing's snapshot; nullopt when it cannot be one (no category, title or
// mode). An event its reader refuses is dead-lettered.
std::optional<ItemSnapshot> read_item(const Event& e) {
  const ItemChanged i = ItemChanged::read(e).value();
  ItemSnapshot item;
  item.id = i.item_id;
  item.site_id = i.site_id;
  item.community_id = e.community_id;
  item.category = i.category;
  item.title = i.title;
  item.description = i.description;
  item.status = std::string(to_string(i.status));
  if (!is_uuid(item.community_id) || item.category.empty() || item.title.empty() || !i.mode) {
    return std::nullopt;
  }
  item.mode = *i.mode == ItemMode::give ? ListingMode::give : ListingMode::lend;
  for (const std::string& photo : i.photos) {
    if (item.photos.size() < kPhotosMax) item.photos.push_back(photo);
  }
  if (i.revision) item.revision = *i.revision;
  return item;
}

// On the shelf: active. Held for a member (reserved, or lent by an objetothèque): reserved.
// Gone for good (handed out, sent to a partner): closed. item.unclaimed changes nothing.
std::optional<ListingStatus> listing_status_of(const std::string& item_status) {
  if (item_status == "available") return ListingStatus::active;
  if (item_status == "reserved" || item_status == "on_loan") return ListingStatus::reserved;
  if (item_status == "collected" || item_status == "redirected") return ListingStatus::closed;
  return std::nullopt;
}

// The item's listing as a member's free offer handed over at the site: no location of its own,
// so its place is the site's (place() in context.hpp reads it).
ListingRow new_listing(const ItemSnapshot& item, const SiteRow& site, ListingStatus status) {
  ListingRow row;
  Listing& l = row.listing;
  l.id = item.id;
  l.side = ListingSide::offer;
  l.member_id = item.site_id;
  l.community_id = item.community_id;
  l.status = status;
  l.kind = ListingKind::good;
  l.mode = item.mode;
  l.category = item.category;
  l.title = item.title;
  l.description = item.description;
  l.site_id = item.site_id;
  l.photos = item.photos;
  row.position = site.location;
  matching::GeoPoint snapped = matching::snap_to_grid({site.location.lat, site.location.lon});
  row.grid = {snapped.lat, snapped.lon};
  return row;
}

void announce(const ListingContext& c, pqxx::work& tx, const ListingRow& row,
              const std::string& item_status, bool created) {
  if (row.listing.status == ListingStatus::closed) {
    c.publish_closed(tx, row, item_status == "collected" ? "completed" : "closed");
  } else {
    c.publish(tx, row, created ? "published" : "updated");
  }
}

void create_listing_of(const ListingContext& c, pqxx::work& tx, const ItemSnapshot& item,
                       ListingStatus status) {
  std::optional<SiteRow> site = find_site(tx, item.site_id);
  // The members stream is consumed apart from this one: throwing retries the event later.
  if (!site) throw std::runtime_error("depot item at a site not yet known: retried");
  if (site->community_id != item.community_id) {
    log::warn("depot item of another community than its site: ignored", {{"item", item.id}});
    return;
  }
  insert_listing(tx, new_listing(item, *site, status));
  announce(c, tx, find_listing(tx, item.id, false).value(), item.status, true);
}

void apply_item_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  if (!item_change(e.type)) return;  // loan reminders and late notices: not listings
  std::optional<ItemSnapshot> item = read_item(e);
  if (!item) {
    log::warn("depot item event without its fields: ignored", {{"event", e.id}});
    return;
  }
  std::optional<ListingStatus> status = listing_status_of(item->status);
  if (!status) return;
  if (tx.exec_params(kAdvanceItem, item->id, item->site_id, item->revision).affected_rows() == 0) {
    return;  // an older revision than the one applied
  }
  std::optional<ListingRow> row = find_listing(tx, item->id, true);
  if (!row) {
    create_listing_of(c, tx, *item, *status);
    return;
  }
  if (!is_depot_listing(row->listing) || row->listing.status == *status) return;
  ListingRow next = *row;
  next.listing.status = *status;
  next.exchange_id = std::nullopt;
  next.acted_by = std::nullopt;
  announce(c, tx, update_listing(tx, next), item->status, false);
}

}  // namespace

bool is_depot_listing(const Listing& listing) {
  return listing.site_id && listing.member_id == *listing.site_id;
}

void register_depot_consumer(const std::shared_ptr<const ListingContext>& context) {
  context->service.consume(
      "depot", [context](pqxx::work& tx, const Event& e) { apply_item_event(*context, tx, e); });
}

}  // namespace maillon::listings
