// What the exchange service learns from other services' streams (policies, sites, listings,
// matches, the ledger's answers), the in-app notifications it derives from its own events, and
// the expiry job.
#include <cstdlib>

#include "services/common/config.hpp"
#include "services/common/directory.hpp"
#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/exchange/desk_items.hpp"
#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {
namespace {

constexpr int64_t kExpiryIntervalDefaultMs = 60'000;

std::optional<std::string> uuid_field(const Json& data, const char* name) {
  auto it = data.find(name);
  if (it == data.end() || !it->is_string() || !is_uuid(it->get<std::string>())) return std::nullopt;
  return it->get<std::string>();
}

std::string text_field(const Json& data, const char* name) {
  auto it = data.find(name);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Communities and sites go to the directory. A member who leaves (suspended or erased) is no
// counterpart any more: what was not handed over is cancelled with its hold voided; an erased
// member's name goes from others' conversations.
void apply_members_event(Workflow& workflow, pqxx::work& tx, const Event& e) {
  if (directory::apply(tx, e)) return;
  if (e.type == "member.suspended") {
    const MemberStanding suspended = MemberStanding::read(e).value();
    workflow.cancel_exchanges_of(tx, suspended.member_id, "member-suspended");
  } else if (e.type == "member.erased") {
    const MemberErased erased = MemberErased::read(e).value();
    workflow.cancel_exchanges_of(tx, erased.member_id, "member-erased");
    repo::mark_member_erased(tx, erased.member_id);
  }
}

void apply_listing_event(pqxx::work& tx, const Event& e) {
  const auto dot = e.type.find('.');
  if (dot == std::string::npos) return;
  const std::string what = e.type.substr(dot + 1);
  auto id = uuid_field(e.data, "id");
  if (!id) return;
  if (what == "closed") {
    repo::close_listing(tx, *id);
    return;
  }
  if (what != "published" && what != "updated") return;
  auto member = uuid_field(e.data, "member_id");
  auto community = uuid_field(e.data, "community_id");
  const std::string side = text_field(e.data, "side");
  if (!member || !community || (side != "offer" && side != "request")) return;
  int64_t price = 0;
  if (auto it = e.data.find("price_minutes"); it != e.data.end() && it->is_number_integer()) {
    price = it->get<int64_t>();
  }
  repo::upsert_listing(tx, {*id, side, *member, *community, uuid_field(e.data, "site_id"), price,
                            text_field(e.data, "status")});
}

void apply_match_event(pqxx::work& tx, const Event& e) {
  auto id = uuid_field(e.data, "match_id");
  if (!id) id = uuid_field(e.data, "id");
  auto offer = uuid_field(e.data, "offer_id");
  auto request = uuid_field(e.data, "request_id");
  if (id && offer && request) repo::upsert_match(tx, *id, *offer, *request);
}

// Each party hears of what the other one (or staff, or the system) did; nobody is told of
// their own action.
void notify(pqxx::work& tx, const Event& e) {
  // Steps the system takes on its way (the hold, the post) are told by their outcome.
  if (e.type == "exchange.accepting" || e.type == "exchange.completing" ||
      e.type == "exchange.abandoned") {
    return;
  }
  auto exchange_id = uuid_field(e.data, "exchange_id");
  if (!exchange_id) return;
  std::string self = text_field(e.data, "actor_id");
  if (!text_field(e.data, "on_behalf_of").empty()) self.clear();
  if (e.type == "exchange.message") self = text_field(e.data, "author_id");
  if (e.type == "exchange.rated") self = text_field(e.data, "rater_id");
  for (const char* side : {"provider_id", "receiver_id"}) {
    const std::string member = text_field(e.data, side);
    if (member.empty() || member == self) continue;
    repo::insert_notification(tx, uuid_from_name("notification:" + e.id + ":" + member), member,
                              e.type, *exchange_id, e.data);
  }
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
  s.consume("ledger.events", [workflow](pqxx::work& tx, const Event& e) {
    if (e.type.rfind("transfer.", 0) == 0) workflow->on_ledger_event(tx, e.type, e.data);
  });
  s.consume("exchanges", [](pqxx::work& tx, const Event& e) { notify(tx, e); });
  register_desk_items(s);
  s.every("expire-exchange-proposals", expiry_interval(),
          [workflow](pqxx::work& tx) { workflow->expire_due(tx); });
}

}  // namespace maillon::exchange
