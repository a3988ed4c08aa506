// Depot items as offers: each item.* event of the `depot` stream sets the status of the item's
// listing (created at the first event), in the transaction that records the event: exactly once.
#include "services/offers/depot_items.hpp"

#include <stdexcept>
#include <vector>

#include "matching/geo.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/events_depot.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/offers/context.hpp"
#include "services/offers/depot_items_sql.hpp"

namespace maillon::listings {
namespace {

constexpr size_t kPhotosMax = 10;  // what the depot accepts at intake

// The item.* event a listing can follow; nullopt when it cannot be one (no category, title or
// mode). Its community is the envelope's; at most kPhotosMax photos. An event its reader refuses
// is dead-lettered.
std::optional<ItemChanged> read_item(const Event& e) {
  ItemChanged item = ItemChanged::read(e).value();
  item.community_id = e.community_id;
  if (!is_uuid(item.community_id) || item.category.empty() || item.title.empty() || !item.mode) {
    return std::nullopt;
  }
  if (item.photos.size() > kPhotosMax) item.photos.resize(kPhotosMax);
  return item;
}

std::string status_text(const ItemChanged& item) {
  return std::string(to_string(item.status));
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
ListingRow new_listing(const ItemChanged& item, const SiteRow& site, ListingStatus status) {
  ListingRow row;
  Listing& l = row.listing;
  l.id = item.item_id;
  l.side = ListingSide::offer;
  l.member_id = item.site_id;
  l.community_id = item.community_id;
  l.status = status;
  l.kind = ListingKind::good;
  l.mode = *item.mode == ItemMode::give ? ListingMode::give : ListingMode::lend;
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

void create_listing_of(const ListingContext& c, pqxx::work& tx, const ItemChanged& item,
                       ListingStatus status) {
  std::optional<SiteRow> site = find_site(tx, item.site_id);
  // The members stream is consumed apart from this one: throwing retries the event later.
  if (!site) throw std::runtime_error("depot item at a site not yet known: retried");
  if (site->community_id != item.community_id) {
    log::warn("depot item of another community than its site: ignored", {{"item", item.item_id}});
    return;
  }
  insert_listing(tx, new_listing(item, *site, status));
  announce(c, tx, find_listing(tx, item.item_id, false).value(), status_text(item), true);
}

void apply_item_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  if (!item_change(e.type)) return;  // loan reminders and late notices: not listings
  std::optional<ItemChanged> item = read_item(e);
  if (!item) {
    log::warn("depot item event without its fields: ignored", {{"event", e.id}});
    return;
  }
  std::optional<ListingStatus> status = listing_status_of(status_text(*item));
  if (!status) return;
  if (exec_cached(tx, kAdvanceItem, item->item_id, item->site_id, item->revision.value_or(0))
          .affected_rows() == 0) {
    return;  // an older revision than the one applied
  }
  std::optional<ListingRow> row = find_listing(tx, item->item_id, true);
  if (!row) {
    create_listing_of(c, tx, *item, *status);
    return;
  }
  if (!is_depot_listing(row->listing) || row->listing.status == *status) return;
  ListingRow next = *row;
  next.listing.status = *status;
  next.exchange_id = std::nullopt;
  next.acted_by = std::nullopt;
  announce(c, tx, update_listing(tx, next), status_text(*item), false);
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
