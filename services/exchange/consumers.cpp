// What the exchange service learns from other services' streams (policies, sites, listings,
// matches, the ledger's answers) and its jobs (the in-app notifications are the notify service's).
#include <cstdlib>

#include "services/common/config.hpp"
#include "services/common/directory.hpp"
#include "services/common/events_exchange_relay.hpp"
#include "services/common/events_exchanges.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/events_listings.hpp"
#include "services/common/events_matches.hpp"
#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/exchange/desk_items.hpp"
#include "services/exchange/exchange_service.hpp"
#include "services/exchange/holds.hpp"
#include "services/exchange/partner_exchanges.hpp"

namespace maillon::exchange {
namespace {

constexpr int64_t kExpiryIntervalDefaultMs = 60'000;

// Communities and sites go to the directory. A member who leaves (suspended or erased) is no
// counterpart any more: what was not handed over is cancelled with its hold voided; an erased
// member's name goes from others' conversations. Their calendar feed's address stops working
// then, and when their password changes (it may have leaked with a session): the next
// GET /v1/me/calendar gives a new one.
void apply_members_event(Workflow& workflow, pqxx::work& tx, const Event& e) {
  if (directory::apply(tx, e)) return;
  if (e.type == "member.suspended") {
    const MemberStanding suspended = MemberStanding::read(e).value();
    workflow.cancel_exchanges_of(tx, suspended.member_id, "member-suspended");
    repo::revoke_calendar_token(tx, suspended.member_id);
  } else if (e.type == "member.password_changed") {
    repo::revoke_calendar_token(tx, MemberStanding::read(e).value().member_id);
  } else if (e.type == "member.erased") {
    const MemberErased erased = MemberErased::read(e).value();
    workflow.cancel_exchanges_of(tx, erased.member_id, "member-erased");
    repo::mark_member_erased(tx, erased.member_id);
    repo::revoke_calendar_token(tx, erased.member_id);
  }
}

void apply_listing_event(pqxx::work& tx, const Event& e) {
  const ListingStreamEvent l = ListingStreamEvent::read(e).value();
  if (l.change == ListingChange::closed) {
    repo::close_listing(tx, l.id, l.revision);
    return;
  }
  ListingCopy copy{l.id,
                   std::string(to_string(l.side)),
                   l.member_id,
                   l.community_id,
                   l.site_id,
                   l.price_minutes.value_or(0),
                   std::string(to_string(l.status))};
  if (l.mode) copy.mode = std::string(to_string(*l.mode));
  copy.deposit_minutes = l.deposit_minutes.value_or(0);
  copy.capacity = l.capacity;
  copy.revision = l.revision;  // an older state read late does not replace a newer one
  copy.visibility = std::string(to_string(l.visibility.value_or(ListingVisibility::community)));
  repo::upsert_listing(tx, copy);
  if (l.title) note_listing_title(tx, l.id, *l.title, l.revision);
}

void apply_match_event(pqxx::work& tx, const Event& e) {
  const MatchProposed m = MatchProposed::read(e).value();
  repo::upsert_match(tx, m.id, m.offer_id, m.request_id);
}

std::chrono::milliseconds expiry_interval() {
  return Config::duration_ms("MAILLON_EXCHANGE_EXPIRY_INTERVAL_MS",
                             std::chrono::milliseconds(kExpiryIntervalDefaultMs),
                             std::chrono::milliseconds(10), std::chrono::hours(24));
}

}  // namespace

void register_consumers(Service& s, const std::shared_ptr<Workflow>& workflow) {
  s.consume("members",
            [workflow](pqxx::work& tx, const Event& e) { apply_members_event(*workflow, tx, e); });
  s.consume("offers", [](pqxx::work& tx, const Event& e) { apply_listing_event(tx, e); });
  s.consume("requests", [](pqxx::work& tx, const Event& e) { apply_listing_event(tx, e); });
  s.consume("matches", [](pqxx::work& tx, const Event& e) { apply_match_event(tx, e); });
  s.consume("ledger.events", [&s, workflow](pqxx::work& tx, const Event& e) {
    // A partner installation's exchange state or action (partner_exchanges.hpp).
    if (e.type == FederationExchangeRelayed::type_name()) return apply_relayed(s, workflow, tx, e);
    if (!transfer_event_type(e.type)) return;  // federation.link.*: not a transfer's answer
    TransferEvent::read(e).value();  // an answer the ledger cannot have sent is dead-lettered
    workflow->on_ledger_event(tx, e.type, e.data);
  });
  register_desk_items(s);
  s.every("expire-exchange-proposals", expiry_interval(),
          [workflow](pqxx::work& tx) { workflow->expire_due(tx); });
  s.every("mark-late-loans", expiry_interval(),
          [workflow](pqxx::work& tx) { workflow->mark_late_due(tx); });
}

}  // namespace maillon::exchange
