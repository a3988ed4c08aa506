// Wiring of the federation between installations: the partner installations' door
// (POST /federation/v1/messages, no member session: the signature of the link's partner is the
// credential), the sender and reconciliation jobs, and the hooks by which F1's link and payment
// use cases hand links with another installation to this code.
#include "services/common/errors.hpp"
#include "services/common/events.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/ledger/federation_remote.hpp"
#include "services/ledger/federation_remote_internal.hpp"
#include "services/ledger/transfer_json.hpp"

namespace maillon::ledger::remote {
namespace {

RemoteFederation* g_federation = nullptr;

}  // namespace

RemoteFederation* remote_federation() {
  return g_federation;
}

void merge_remote_reconciliation(const Link& ours, Json& body) {
  const Reconciliation r = g_federation != nullptr ? g_federation->reconcile(ours)
                                                   : Reconciliation{Refusal::partner_unreachable};
  if (r.refusal != Refusal::none)
    throw ApiError(503, "partner-unreachable", "Installation partenaire injoignable",
                   "L'installation partenaire n'a pas répondu ; réessayez plus tard.");
  for (auto it = r.body.begin(); it != r.body.end(); ++it) body[it.key()] = it.value();
}

void relay_exchange_command(pqxx::work& tx, const Event& e) {
  if (g_federation == nullptr) {
    log::warn("an exchange relay without a remote federation: dropped", {{"event", e.id}});
    return;
  }
  relay_exchange(*g_federation, tx, e);
}

Json remote_payment_json(const Transfer& payer_leg) {
  const auto saga = g_federation->find_transfer(payer_leg.request.id);
  return {{"id", payer_leg.request.id},
          {"state", std::string(to_string(payer_leg.state))},
          {"from_member_id", saga ? saga->payer_member_id : payer_leg.request.from_account_id},
          {"to_member_id", saga ? Json(saga->payee_member_id) : Json(nullptr)},
          {"amount_minutes", payer_leg.request.amount_minutes},
          {"payee_amount_minutes", saga ? Json(saga->partner_minutes) : Json(nullptr)},
          {"memo", payer_leg.request.memo},
          {"payer_leg", transfer_json(payer_leg)},
          {"payee_leg", nullptr},
          {"saga_state", saga ? saga->state : std::string("holding")},
          {"created_at", rfc3339_from_us(payer_leg.created_at_us)}};
}

RemoteFederation& register_remote_federation(Service& s, PolicyCache& policies) {
  // Owned for the life of the process: handlers, hooks and jobs hold references to it.
  static RemoteFederation federation(s, policies, Settings::from_env(s.config.port));
  g_federation = &federation;
  federation::set_remote_hooks(
      {[](pqxx::work& tx, const Link& ours) { g_federation->link_changed(tx, ours); },
       [](pqxx::work& tx, const Outbox&, PolicyCache&, const Link& ours,
          const federation::FederatedCommand& command,
          int64_t now_us) { return g_federation->start_transfer(tx, ours, command, now_us); },
       [](pqxx::work& tx, const Link& ours) { g_federation->suspension_changed(tx, ours); }});
  // The listings that may cross to partner installations (federation_listings.cpp).
  for (const char* stream : {"offers", "requests"})
    s.consume(stream, [](pqxx::work& tx, const Event& e) { keep_listing_event(tx, e); });
  s.http.route("POST", "/federation/v1/messages",
               [](const Request& r) { return g_federation->receive(r); });
  // Both jobs run on one replica at a time (Service::every's advisory lock): one sender per
  // installation, so a message is never sent twice at once, and answers apply in order.
  s.every("federation-send", federation.settings().send_interval,
          [](pqxx::work&) { g_federation->send_round(); });
  s.every("federation-reconcile", federation.settings().reconcile_interval,
          [](pqxx::work&) { g_federation->reconcile_all(); });
  return federation;
}

}  // namespace maillon::ledger::remote
