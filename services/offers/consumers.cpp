// What moves a listing besides its owner: sites and members' standing from the members stream
// (suspension hides a member's listings, reinstatement shows them, erasure closes them, staff
// moderation hides one), exchange outcomes from the exchanges stream, and the periodic expiry
// of ended availability windows.
#include <map>

#include "services/common/events.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/offers/context.hpp"
#include "services/offers/depot_items.hpp"

namespace maillon::listings {
namespace {

constexpr int kExpiryBatchMax = 500;  // per run; the next run takes the rest

std::optional<std::string> uuid_field(const nlohmann::json& data, const char* name) {
  auto it = data.find(name);
  if (it == data.end() || !it->is_string() || !is_uuid(it->get<std::string>())) return std::nullopt;
  return it->get<std::string>();
}

void apply_site_event(pqxx::work& tx, const Event& e) {
  auto id = uuid_field(e.data, "id");
  auto community = uuid_field(e.data, "community_id");
  const auto location = e.data.value("location", nlohmann::json::object());
  if (!id || !community || !location.is_object() ||
      !location.value("lat", nlohmann::json()).is_number() ||
      !location.value("lon", nlohmann::json()).is_number()) {
    log::warn("site event without id, community or location: ignored", {{"event", e.id}});
    return;
  }
  upsert_site(tx,
              {*id, *community, {location["lat"].get<double>(), location["lon"].get<double>()}});
}

// member.suspended / reinstated / erased: the standing is recorded first, and an event older
// than the one recorded changes nothing (replicas may take a member's events out of order).
void apply_standing_event(const ListingContext& c, pqxx::work& tx, const Event& e,
                          OwnerStanding standing) {
  auto member = uuid_field(e.data, "member_id");
  if (!member || !is_uuid(e.community_id) || !parse_rfc3339_s(e.occurred_at)) {
    log::warn("member event without member, community or time: ignored", {{"event", e.id}});
    return;
  }
  lock_member(tx, *member);  // after any listing being posted by this member right now
  if (!record_standing(tx, *member, e.community_id, standing, e.occurred_at)) return;
  switch (standing) {
    case OwnerStanding::suspended:
      for (const ListingRow& row : hide_listings_of_member(tx, *member))
        c.publish(tx, row, "updated");
      break;
    case OwnerStanding::active:
      for (const ListingRow& row : show_listings_of_member(tx, *member)) {
        if (row.listing.status == ListingStatus::closed ||
            row.listing.status == ListingStatus::expired) {
          continue;  // ended while hidden: already announced closed
        }
        c.publish(tx, row, "updated");
      }
      break;
    case OwnerStanding::erased:
      // staff_close takes every status to closed (exchange/listing.cpp), as this one statement
      // does; the exchange service cancels what was not handed over yet.
      for (const ListingRow& row : close_listings_of_member(tx, *member)) {
        c.publish_closed(tx, row, "withdrawn");
      }
      break;
  }
}

// listing.hidden: staff closed a report on one listing with "hide". The event names the side.
void apply_moderation_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  auto it = e.data.find("listing");
  if (it == e.data.end() || !it->is_string() || *it != to_string(c.config.side)) return;
  auto id = uuid_field(e.data, "listing_id");
  if (!id || !is_uuid(e.community_id)) {
    log::warn("listing.hidden without listing id or community: ignored", {{"event", e.id}});
    return;
  }
  auto row = hide_listing(tx, *id, e.community_id, uuid_field(e.data, "report_id"));
  if (!row) return;  // unknown here, of another community, or hidden already
  if (row->listing.status == ListingStatus::closed || row->listing.status == ListingStatus::expired)
    return;
  c.publish(tx, *row, "updated");
}

void apply_members_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  if (e.type == "site.created" || e.type == "site.updated") {
    apply_site_event(tx, e);
  } else if (e.type == "member.suspended") {
    apply_standing_event(c, tx, e, OwnerStanding::suspended);
  } else if (e.type == "member.reinstated") {
    apply_standing_event(c, tx, e, OwnerStanding::active);
  } else if (e.type == "member.erased") {
    apply_standing_event(c, tx, e, OwnerStanding::erased);
  } else if (e.type == "listing.hidden") {
    apply_moderation_event(c, tx, e);
  }
}

// The exchange workflow's outcomes, as lifecycle events of the listings it names. A resolved
// dispute frees its listings after a void and closes them once credits were paid.
std::optional<ListingEvent> exchange_listing_event(const Event& e) {
  if (e.type == "exchange.resolved") {
    const auto resolution = e.data.value("resolution", nlohmann::json::object());
    const bool voided = resolution.is_object() && resolution.value("outcome", "") == "void";
    return voided ? ListingEvent::exchange_released : ListingEvent::exchange_completed;
  }
  static const std::map<std::string, ListingEvent, std::less<>> kEvents = {
      {"exchange.accepted", ListingEvent::exchange_reserved},
      {"exchange.completed", ListingEvent::exchange_completed},
      {"exchange.cancelled", ListingEvent::exchange_released},
      {"exchange.declined", ListingEvent::exchange_released},
      {"exchange.expired", ListingEvent::exchange_released},
  };
  auto it = kEvents.find(e.type);
  if (it == kEvents.end()) return std::nullopt;
  return it->second;
}

void apply_exchange_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  std::optional<ListingEvent> event = exchange_listing_event(e);
  auto listing_id = uuid_field(e.data, c.config.exchange_field.c_str());
  if (!event || !listing_id) return;  // another type, or an exchange without our side
  auto exchange_id = uuid_field(e.data, "exchange_id");
  auto row = find_listing(tx, *listing_id, true);
  if (!row || row->listing.community_id != e.community_id) return;
  // A listing reserved by one exchange is released or closed only by that one: declining
  // another proposal on the same offer must not free it.
  bool other_holder = row->exchange_id && exchange_id && *row->exchange_id != *exchange_id;
  if (other_holder && *event != ListingEvent::exchange_reserved) return;
  ListingTransitionResult result = transition(row->listing.status, *event);
  if (result.outcome != ListingTransitionOutcome::changed) {
    if (result.outcome == ListingTransitionOutcome::rejected) {
      log::warn("exchange event does not apply to the listing's status",
                {{"event", e.id}, {"listing", *listing_id}});
    }
    return;
  }
  ListingRow next = *row;
  next.listing.status = result.status;
  next.exchange_id = *event == ListingEvent::exchange_reserved ? exchange_id : std::nullopt;
  next.acted_by = std::nullopt;
  ListingRow stored = update_listing(tx, next);
  if (stored.listing.status == ListingStatus::closed) {
    c.publish_closed(tx, stored, "completed");
  } else {
    c.publish(tx, stored, "updated");
  }
}

void expire_due(const ListingContext& c, pqxx::work& tx) {
  int64_t now_s = c.now_s();
  for (ListingRow& row : expiring_listings(tx, now_s, kExpiryBatchMax)) {
    if (!is_expired(row.listing, now_s)) continue;
    ListingTransitionResult result = transition(row.listing.status, ListingEvent::expire);
    if (result.outcome != ListingTransitionOutcome::changed) continue;
    row.listing.status = result.status;
    row.acted_by = std::nullopt;
    c.publish_closed(tx, update_listing(tx, row), "expired");
  }
}

}  // namespace

void register_consumers(const std::shared_ptr<const ListingContext>& context) {
  Service& s = context->service;
  s.consume("members",
            [context](pqxx::work& tx, const Event& e) { apply_members_event(*context, tx, e); });
  s.consume("exchanges",
            [context](pqxx::work& tx, const Event& e) { apply_exchange_event(*context, tx, e); });
  if (context->config.side == ListingSide::offer) register_depot_consumer(context);
  s.every("expire-listings", context->config.expiry_interval,
          [context](pqxx::work& tx) { expire_due(*context, tx); });
}

}  // namespace maillon::listings
