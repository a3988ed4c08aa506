// What moves a listing besides its owner: sites and members' standing from the members stream
// (suspension hides a member's listings, reinstatement shows them, erasure closes them, staff
// moderation hides one), exchange outcomes from the exchanges stream, and the periodic expiry
// of ended availability windows.
#include <map>

#include "services/common/directory.hpp"
#include "services/common/events.hpp"
#include "services/common/events_exchanges.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/events_listing_shares.hpp"
#include "services/common/events_members.hpp"
#include "services/common/federation_partners.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/offers/context.hpp"
#include "services/offers/depot_items.hpp"

namespace maillon::listings {
namespace {

constexpr int kExpiryBatchMax = 500;  // per run; the next run takes the rest
// Open copies kept of one partner community's listings: past it, new ones are not shown.
constexpr int64_t kPartnerListingsMax = 20'000;

// member.suspended / reinstated / erased: the standing is recorded first, and an event older
// than the one recorded changes nothing (replicas may take a member's events out of order).
void apply_standing_event(const ListingContext& c, pqxx::work& tx, const Event& e,
                          const std::string& member_id, OwnerStanding standing) {
  if (!is_uuid(e.community_id) || !parse_rfc3339_s(e.occurred_at)) {
    log::warn("member event without community or time: ignored", {{"event", e.id}});
    return;
  }
  lock_member(tx, member_id);  // after any listing being posted by this member right now
  if (!record_standing(tx, member_id, e.community_id, standing, e.occurred_at)) return;
  switch (standing) {
    case OwnerStanding::suspended:
      for (const ListingRow& row : hide_listings_of_member(tx, member_id))
        c.publish(tx, row, "updated");
      break;
    case OwnerStanding::active:
      for (const ListingRow& row : show_listings_of_member(tx, member_id)) {
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
      for (const ListingRow& row : close_listings_of_member(tx, member_id)) {
        c.publish_closed(tx, row, "withdrawn");
      }
      break;
  }
}

// listing.hidden: staff closed a report on one listing with "hide". The event names the side.
void apply_moderation_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  const ListingHidden hidden = ListingHidden::read(e).value();
  const bool ours =
      (hidden.listing == ListingHidden::Side::offer) == (c.config.side == ListingSide::offer);
  if (!ours) return;
  if (!is_uuid(e.community_id)) {
    log::warn("listing.hidden without community: ignored", {{"event", e.id}});
    return;
  }
  auto row = hide_listing(tx, hidden.listing_id, e.community_id, hidden.report_id);
  if (!row) return;  // unknown here, of another community, or hidden already
  if (row->listing.status == ListingStatus::closed || row->listing.status == ListingStatus::expired)
    return;
  c.publish(tx, *row, "updated");
}

// Communities and sites go to the directory (a listing handed over at a site takes its place).
void apply_members_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  if (directory::apply(tx, e)) return;
  if (e.type == "member.suspended" || e.type == "member.reinstated") {
    const MemberStanding m = MemberStanding::read(e).value();
    const bool back = m.type == MemberStanding::Type::reinstated;
    apply_standing_event(c, tx, e, m.member_id,
                         back ? OwnerStanding::active : OwnerStanding::suspended);
  } else if (e.type == "member.erased") {
    apply_standing_event(c, tx, e, MemberErased::read(e).value().member_id, OwnerStanding::erased);
  } else if (e.type == "listing.hidden") {
    apply_moderation_event(c, tx, e);
  }
}

// The exchange workflow's outcomes, as lifecycle events of the listings it names. A resolved
// dispute frees its listings after a void and closes them once credits were paid; a resolution
// the event lacks (or names an unknown outcome) is no reason to close anything: dead-lettered.
std::optional<ListingEvent> exchange_listing_event(const ExchangeEvent& x) {
  switch (x.type) {
    case ExchangeEventType::resolved:
      return required(x.resolution, "resolution").outcome == ResolutionOutcome::void_hold
                 ? ListingEvent::exchange_released
                 : ListingEvent::exchange_completed;
    case ExchangeEventType::accepted:
      return ListingEvent::exchange_reserved;
    case ExchangeEventType::completed:
      return ListingEvent::exchange_completed;
    case ExchangeEventType::cancelled:
    case ExchangeEventType::declined:
    case ExchangeEventType::expired:
      return ListingEvent::exchange_released;
    default:
      return std::nullopt;
  }
}

void apply_to_listing(const ListingContext& c, pqxx::work& tx, const Event& e,
                      const ExchangeEvent& x, ListingEvent outcome,
                      const std::optional<std::string>& listing_id);

// An exchange's end may be read before its own accept (entries claimed after a crash, a retried
// event, the outbox republished): the end then finds the listing active and changes nothing, and
// the late accept would reserve it for an exchange that is over. So each end a listing could be
// reserved by is remembered, and an accept of an ended exchange is dropped (false). An exchange
// never runs again once ended (is_terminal), so the memory never refuses a live accept. Called
// under the listing's row lock, which orders it with the other events of that listing.
bool remember_exchange_end(pqxx::work& tx, const Listing& listing, ListingEvent event,
                           const std::string& exchange_id) {
  if (!is_uuid(exchange_id)) return true;  // the memory's key; the ids we make are uuids
  if (event == ListingEvent::exchange_reserved) return !exchange_ended(tx, listing.id, exchange_id);
  // A listing no exchange reserves (an offered service) or that no event reopens needs no memory.
  const bool reservable = listing_event_of_exchange(listing, ListingEvent::exchange_reserved) &&
                          listing.status != ListingStatus::closed;
  if (reservable) record_exchange_end(tx, listing.id, exchange_id);
  return true;
}

// A lent object stays offered: its bookings keep loans apart (the exchange service's calendar).
// An offered service stays offered too (listing_event_of_exchange). A swap closes the listing
// the proposer gave as well as the one they took.
void apply_exchange_event(const ListingContext& c, pqxx::work& tx, const Event& e) {
  const ExchangeEvent x = ExchangeEvent::read(e).value();
  std::optional<ListingEvent> event = exchange_listing_event(x);
  if (!event) return;
  const bool offers = c.config.side == ListingSide::offer;
  if (offers && x.mode == ListingMode::lend) return;
  apply_to_listing(c, tx, e, x, *event, offers ? x.offer_id : x.request_id);
  if (offers && x.given_offer_id) apply_to_listing(c, tx, e, x, *event, x.given_offer_id);
}

void apply_to_listing(const ListingContext& c, pqxx::work& tx, const Event& e,
                      const ExchangeEvent& x, ListingEvent outcome,
                      const std::optional<std::string>& listing_id) {
  if (!listing_id) return;  // an exchange without our side
  const std::optional<std::string> exchange_id = x.exchange_id;
  auto row = find_listing(tx, *listing_id, true);
  // A partner installation's copy is its installation's to reserve or close (its owner's mirror
  // of the exchange moves it there): the copy changes only by what that installation sends.
  if (row && row->partner_url) return;
  // Across communities (issue 23) the proposer's own listing is in their community.
  const std::string& community = row ? row->listing.community_id : e.community_id;
  if (!row || (community != e.community_id && community != x.partner_community_id)) return;
  // The listing's own mode, not the exchange's: an offered service stays open to others.
  const std::optional<ListingEvent> event = listing_event_of_exchange(row->listing, outcome);
  if (!event) return;
  if (!remember_exchange_end(tx, row->listing, *event, x.exchange_id)) return;
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

// A partner installation's listing (FederationListingShared) of this service's side: its copy
// written or closed. A copy announces nothing on our streams: our exchanges and matching never
// take it for one of ours.
void apply_partner_listing(const ListingContext& c, pqxx::work& tx, const Event& e) {
  const FederationListingShared shared = FederationListingShared::read(e).value();
  if (shared.side != to_string(c.config.side)) return;
  const PartnerListing copy{shared.partner_url, shared.partner_community_id, shared.revision,
                            shared.listing};
  if (!shared.crossing && shared.listing.empty()) {
    withdraw_partner_listing(tx, shared.listing_id, copy);
    return;
  }
  if (shared.crossing && !find_listing(tx, shared.listing_id, false) &&
      partner_listings_open(tx, shared.partner_community_id) >= kPartnerListingsMax) {
    log::warn(
        "a partner community's listings are past what we keep: this one is not shown",
        {{"partner_community_id", shared.partner_community_id}, {"listing_id", shared.listing_id}});
    return;
  }
  // Not written: an older revision (redelivered, or overtaken), or an id that is not that
  // partner's copy (one of ours, or another partner's), which a copy never replaces.
  // A withdrawal with the listing: written closed, so that an older publish read after it (out of
  // order) changes nothing.
  upsert_partner_listing(tx, copy, shared.crossing);
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
  // The outcomes exchange_listing_event turns into a listing's lifecycle event; no other.
  using T = ExchangeEventType;
  s.consume(
      "exchanges",
      [context](pqxx::work& tx, const Event& e) { apply_exchange_event(*context, tx, e); },
      type_names({T::resolved, T::accepted, T::completed, T::cancelled, T::declined, T::expired}),
      Pace::unhurried);
  // Federation links (issue 23): which communities' listings cross to whom. Transfers, the
  // stream's bulk, change nothing here.
  // Partner installations' listings that cross to ours, as our ledger was told them.
  s.consume(
      kLedgerEventsStream,
      [context](pqxx::work& tx, const Event& e) {
        if (!federation_partners::apply(tx, e)) apply_partner_listing(*context, tx, e);
      },
      {FederationLinkUpdated::type_name(), FederationListingShared::type_name()}, Pace::unhurried);
  if (context->config.side == ListingSide::offer) register_depot_consumer(context);
  s.every("expire-listings", context->config.expiry_interval,
          [context](pqxx::work& tx) { expire_due(*context, tx); });
}

}  // namespace maillon::listings
