#include "services/exchange/partner_exchanges.hpp"

#include <array>
#include <exception>
#include <string_view>

#include "services/common/auth.hpp"
#include "services/common/events.hpp"
#include "services/common/events_exchange_relay.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/exchange/listing_lookup.hpp"

namespace maillon::exchange {
namespace {

constexpr const char* kRelayCommandsStream = "ledger.commands";
// A mirror's free texts at most (the exchange's own limits).
constexpr std::size_t kRelayedTextMax = 4 * kMessageCodePointsMax;

struct NamedAction {
  ExchangeAction action;
  std::string_view name;
};
// The routes' own names (POST /v1/exchanges/{id}/<name>).
constexpr std::array<NamedAction, 6> kRelayable = {{{ExchangeAction::accept, "accept"},
                                                    {ExchangeAction::decline, "decline"},
                                                    {ExchangeAction::cancel, "cancel"},
                                                    {ExchangeAction::complete, "complete"},
                                                    {ExchangeAction::handover, "handover"},
                                                    {ExchangeAction::give_back, "return"}}};

std::optional<ExchangeAction> action_named(std::string_view name) {
  for (const auto& a : kRelayable)
    if (a.name == name) return a.action;
  return std::nullopt;
}

std::string_view name_of(ExchangeAction action) {
  for (const auto& a : kRelayable)
    if (a.action == action) return a.name;
  return "";
}

Json relay_or_null(const std::optional<std::string>& text) {
  return text ? Json(*text) : Json(nullptr);
}

std::string relay_text(const Json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A bounded optional text of the payload; false when present and not a text within bounds.
bool optional_text(const Json& j, const char* name, std::optional<std::string>& out) {
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string() || it->get_ref<const std::string&>().size() > kRelayedTextMax) return false;
  out = it->get<std::string>();
  return true;
}

void send(Service& s, pqxx::work& tx, const std::string& community, const std::string& partner,
          std::string_view kind, const std::string& exchange_id, const Json& payload,
          const std::string& event_id) {
  ExchangeRelayCommand c{std::string(kind), exchange_id, community, partner, payload.dump()};
  s.outbox.add(tx, kRelayCommandsStream, ExchangeRelayCommand::type_name(), community, c.data(),
               event_id);
}

void drop(const char* why, const FederationExchangeRelayed& r) {
  log::warn(std::string("a partner installation's exchange relay dropped: ") + why,
            {{"exchange", r.exchange_id}, {"kind", r.kind}, {"partner", r.partner_url}});
}

// The offer of a mirror: one of ours, the provider's, of the community the state names, that
// crosses. Anything else: the partner names an exchange it could not have opened.
bool offer_fits(pqxx::work& tx, const ExchangeRecord& m) {
  if (!m.offer_id || !is_uuid(*m.offer_id)) return false;
  auto offer = repo::find_listing(tx, *m.offer_id);
  if (!offer) offer = listing_from_owner(tx, *m.offer_id, "offer");
  return offer && offer->side == "offer" && offer->member_id == m.exchange.provider_id &&
         offer->community_id == m.community_id && offer->visibility != "community";
}

// The installation where the exchange lives sends its state: the mirror kept here, newest
// version first, and the exchange.* event its change makes (notify tells our member; offers
// reserves or closes the listing), never a ledger command: the payments are settled there.
void apply_state(Workflow& w, pqxx::work& tx, const FederationExchangeRelayed& r, const Json& p) {
  ExchangeRecord m;
  try {
    m.exchange = exchange_from_document(p.at("exchange"));
  } catch (const std::exception&) {
    return drop("an exchange that does not read", r);
  }
  const auto version = p.find("version");
  if (version == p.end() || !version->is_number_integer() || version->get<int64_t>() <= 0)
    return drop("no version", r);
  m.community_id = relay_text(p, "community_id");
  m.partner_community_id = relay_text(p, "partner_community_id");
  m.offer_id = relay_text(p, "offer_id");
  m.partner_url = r.partner_url;
  m.mirror = true;
  m.mirror_version = version->get<int64_t>();
  m.exchange.site_id.clear();  // a site of theirs means nothing here
  m.exchange.desk_site_id.clear();
  // Ours is the offer's side (the listing's community); theirs the proposer's, the receiver.
  if (m.exchange.id != r.exchange_id || m.community_id != r.community_id ||
      *m.partner_community_id != r.partner_community_id ||
      m.exchange.proposer_id != m.exchange.receiver_id ||
      m.exchange.provider_id == m.exchange.receiver_id || m.exchange.history.empty() ||
      !optional_text(p, "scheduled_at", m.scheduled_at) || !optional_text(p, "message", m.message))
    return drop("an exchange that does not fit", r);
  const auto before = repo::find_exchange(tx, m.exchange.id, true);
  if (before && (!before->mirror || before->partner_url != m.partner_url))
    return drop("not that installation's mirror", r);
  // The offer is checked when the mirror is made: what its owner did to it since (closed it,
  // kept it home) does not stop the exchange's later states (kUpsertMirror keeps the parties).
  if (!before && !offer_fits(tx, m)) return drop("an offer that is not its provider's", r);
  if (!repo::upsert_mirror(tx, m)) return;  // an older or the same state
  const auto stored = repo::find_exchange(tx, m.exchange.id, false);
  // The object's dates, booked here when our member accepted the loan, are free again once it
  // ended or went back to a proposal over there.
  const ExchangeState state = stored->exchange.state;
  if (stored->exchange.mode == ListingMode::lend &&
      (is_terminal(state) || state == ExchangeState::proposed))
    repo::release_booking(tx, stored->exchange.id);
  if (!before) w.publish(tx, *stored, "exchange.proposed");
  const std::size_t seen = before ? before->exchange.history.size() : 1;
  if (stored->exchange.history.size() > seen) {
    const ExchangeHistoryEntry& last = stored->exchange.history.back();
    const std::string type = transition_event_type(last.state_from, last.state_to);
    if (!type.empty()) w.publish(tx, *stored, type);
  }
}

// The other party acts on its mirror: applied here, where the exchange lives, as that member
// (our answer goes back as the next state).
void apply_act(Service& s, const std::shared_ptr<Workflow>& w, pqxx::work& tx,
               const FederationExchangeRelayed& r, const Json& p) {
  const auto record = repo::find_exchange(tx, r.exchange_id, false);
  if (!record || record->mirror || record->partner_url != r.partner_url ||
      record->community_id != r.partner_community_id ||
      record->partner_community_id != std::optional<std::string>(r.community_id))
    return drop("no exchange with that installation", r);
  const std::string member = relay_text(p, "member_id");
  const auto action = action_named(relay_text(p, "action"));
  // The member over there is the provider (the receiver proposed, here).
  if (member != record->exchange.provider_id || !action)
    return drop("not the other party's action", r);
  // The member left their installation: cancelled by the system, as for one of ours.
  const std::string left = relay_text(p, "system_reason");
  if (*action == ExchangeAction::cancel &&
      (left == "member-suspended" || left == "member-erased")) {
    auto locked = repo::find_exchange(tx, r.exchange_id, true);
    ExchangeResult result = cancel_by_system(locked->exchange, left, w->now_s());
    if (result.ok()) w->commit_transition(tx, *locked, result, "exchange.cancelled");
    return;
  }
  Identity who;
  who.member_id = member;
  who.community_id = r.partner_community_id;
  ExchangeUseCases use_cases(s, w);
  const auto answer = use_cases.act_in(tx, who, r.exchange_id, *action, ActionInput{});
  if (answer.refusal != ExchangeRefusal::none || answer.outcome != ExchangeOutcome::ok)
    log::info("a partner installation's action did not apply",
              {{"exchange", r.exchange_id}, {"action", relay_text(p, "action")}});
}

}  // namespace

bool relayable(ExchangeAction action) {
  return !name_of(action).empty();
}

void relay_state(Service& s, pqxx::work& tx, const ExchangeRecord& r) {
  if (!r.partner_url || r.mirror || !r.partner_community_id) return;
  const Json doc = exchange_document(r.exchange);
  const std::string event_id = uuid_from_name("relay-state:" + r.exchange.id + ":" + doc.dump());
  if (repo::outbox_has(tx, event_id)) return;  // this very state is on its way already
  const Json payload = {
      {"exchange_id", r.exchange.id},          {"version", s.clock.now_us()},
      {"community_id", r.community_id},        {"partner_community_id", *r.partner_community_id},
      {"offer_id", relay_or_null(r.offer_id)}, {"scheduled_at", relay_or_null(r.scheduled_at)},
      {"message", relay_or_null(r.message)},   {"exchange", doc}};
  // Ours is the proposer's community; the partner's the offer's.
  send(s, tx, *r.partner_community_id, r.community_id, kExchangeRelayState, r.exchange.id, payload,
       event_id);
}

void relay_act(Service& s, pqxx::work& tx, const ExchangeRecord& m, const Identity& who,
               ExchangeAction action) {
  const std::string act_id = new_uuid();
  const Json payload = {
      {"exchange_id", m.exchange.id},
      {"act_id", act_id},
      {"member_id", who.member_id},
      {"acting_staff_id", who.acting_staff_id.empty() ? Json(nullptr) : Json(who.acting_staff_id)},
      {"action", name_of(action)}};
  send(s, tx, m.community_id, m.partner_community_id.value_or(""), kExchangeRelayAct, m.exchange.id,
       payload, uuid_from_name("relay-act:" + act_id));
}

void relay_system_cancel(Service& s, pqxx::work& tx, const ExchangeRecord& m,
                         const std::string& member_id, std::string_view reason) {
  // One request per mirror and reason: a departure read twice asks once.
  const std::string act_id =
      uuid_from_name("system-cancel:" + m.exchange.id + ":" + std::string(reason));
  const Json payload = {{"exchange_id", m.exchange.id},
                        {"act_id", act_id},
                        {"member_id", member_id},
                        {"acting_staff_id", nullptr},
                        {"action", name_of(ExchangeAction::cancel)},
                        {"system_reason", reason}};
  const std::string event_id = uuid_from_name("relay-act:" + act_id);
  if (repo::outbox_has(tx, event_id)) return;
  send(s, tx, m.community_id, m.partner_community_id.value_or(""), kExchangeRelayAct, m.exchange.id,
       payload, event_id);
}

void apply_relayed(Service& s, const std::shared_ptr<Workflow>& workflow, pqxx::work& tx,
                   const Event& e) {
  const FederationExchangeRelayed r = FederationExchangeRelayed::read(e).value();
  const Json payload = Json::parse(r.payload);
  if (r.kind == kExchangeRelayState) {
    apply_state(*workflow, tx, r, payload);
  } else {
    apply_act(s, workflow, tx, r, payload);
  }
}

}  // namespace maillon::exchange
