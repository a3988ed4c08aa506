// An exchange with a member of a partner installation (issue 23). The exchange lives at the
// installation of the member who proposed it; the other party's installation keeps a mirror of
// it, on which that party acts. The two exchange services talk through their ledgers, which hold
// the link's keys and its signed, retried, idempotent channel: the exchange service asks for a
// message on ledger.commands (ledger.relay_exchange), the ledger queues it to the link's partner
// (exchange.state or exchange.act), and the partner's ledger announces what it received on
// ledger.events (federation.exchange.relayed) for its exchange service, which checks it against
// the exchange before anything changes. The money does not travel here: the exchange's payments
// are the held-until-told transfers of federation_remote_saga.cpp.
#include <nlohmann/json.hpp>

#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/events_exchange_relay.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/ledger/federation_exchanges_sql.hpp"
#include "services/ledger/federation_remote_internal.hpp"
#include "services/ledger/federation_repository.hpp"

namespace maillon::ledger::remote {
namespace {

// A payload's size at most (a state carries the exchange's history: a few kilobytes).
constexpr std::size_t kRelayPayloadMax = 64 * 1024;

Json relay_answer(std::string_view status, std::string_view reason = "") {
  Json a = {{"status", status}};
  if (!reason.empty()) a["reason"] = reason;
  return a;
}

std::string payload_text(const Json& p, const char* name) {
  const auto it = p.find(name);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

void relay_exchange(RemoteFederation& f, pqxx::work& tx, const Event& e) {
  const auto read = ExchangeRelayCommand::read(e);
  if (!read) {
    log::warn("an exchange relay the ledger cannot read: dropped", {{"event", e.id}});
    return;
  }
  const ExchangeRelayCommand& c = *read;
  const auto link =
      federation::repo::select_link_between(tx, c.community_id, c.partner_community_id);
  // An exchange under way goes on whatever became of the link (a suspension stops new ones):
  // only a link with another installation that was accepted once carries it.
  if (!link || !link->remote() || !link->accepted) {
    log::warn("an exchange relay without a link to another installation: dropped",
              {{"exchange", c.exchange_id}, {"partner_community", c.partner_community_id}});
    return;
  }
  const Json payload = Json::parse(c.payload);
  const int64_t now_us = f.service().clock.now_us();
  if (c.kind == kExchangeRelayState) {
    // Only the newest state matters: it replaces one not answered yet.
    const std::string key = "exchange:" + link->id + ":" + c.exchange_id;
    repo::cancel_messages(tx, key, std::string(kExchangeState));
    queue_message(tx, *link, kExchangeState, payload, key, now_us);
    return;
  }
  // Every action counts, once: its own key, queued once however often the command is read.
  const std::string key = "exchange-act:" + payload_text(payload, "act_id");
  if (!exec_cached(tx, kRelayQueued, key, std::string(kExchangeAct)).empty()) return;
  queue_message(tx, *link, kExchangeAct, payload, key, now_us);
}

Json on_exchange_message(RemoteFederation& f, pqxx::work& tx, const Link& link, const Envelope& e) {
  if (federation::repo::community_name(tx, link.partner_community_id))
    return relay_answer("refused", "partner-community-is-ours");
  const std::string exchange_id = payload_text(e.payload, "exchange_id");
  if (!is_uuid(exchange_id) || e.payload.dump().size() > kRelayPayloadMax)
    return relay_answer("refused", "invalid-exchange");
  // Whoever acts over there is their member, never one of ours.
  if (e.type == kExchangeAct) {
    const std::string member = payload_text(e.payload, "member_id");
    if (!is_uuid(member) || is_our_member(tx, member) || payload_text(e.payload, "act_id").empty())
      return relay_answer("refused", "invalid-exchange");
  }
  FederationExchangeRelayed relayed;
  relayed.link_id = link.id;
  relayed.community_id = link.community_id;
  relayed.partner_community_id = link.partner_community_id;
  relayed.partner_url = link.partner_url.value_or("");
  relayed.kind = e.type == kExchangeAct ? kExchangeRelayAct : kExchangeRelayState;
  relayed.exchange_id = exchange_id;
  relayed.payload = e.payload.dump();
  f.service().outbox.add(tx, kLedgerEventsStream, FederationExchangeRelayed::type_name(),
                         link.community_id, relayed.data(),
                         uuid_from_name("federation.exchange.relayed:" + e.id));
  return relay_answer("received");
}

}  // namespace maillon::ledger::remote
