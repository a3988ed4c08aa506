// The exchange use cases that outlive one request: storing a transition with what it must send
// (ledger commands and exchange.* events in the same transaction, through the outbox), the
// ledger's answers, and the expiry of unanswered proposals.
#include <chrono>

#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/exchange/exchange_service.hpp"
#include "services/exchange/holds.hpp"
#include "services/exchange/partner_exchanges.hpp"

namespace maillon::exchange {
namespace {

constexpr const char* kExchangesStream = "exchanges";
constexpr const char* kLedgerCommandsStream = "ledger.commands";
constexpr const char* kTransferPrefix = "exchange:";

std::string_view command_name(ExchangeEffectKind kind) {
  switch (kind) {
    case ExchangeEffectKind::ledger_hold:
      return "hold";
    case ExchangeEffectKind::ledger_post:
      return "post";
    case ExchangeEffectKind::ledger_void:
      return "void";
    default:
      return "";
  }
}

// "exchange:<uuid>:<attempt>" → the exchange id; nullopt for another service's transfer.
std::optional<std::string> exchange_of_transfer(const std::string& transfer_id) {
  const std::string prefix = kTransferPrefix;
  if (transfer_id.rfind(prefix, 0) != 0) return std::nullopt;
  const auto colon = transfer_id.rfind(':');
  if (colon <= prefix.size()) return std::nullopt;
  std::string id = transfer_id.substr(prefix.size(), colon - prefix.size());
  if (id.size() != 36) return std::nullopt;
  return id;
}

std::string text_field(const Json& data, const char* name) {
  auto it = data.find(name);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

PaymentCommunities payment_communities(const ExchangeRecord& record) {
  if (!record.partner_community_id) return {record.community_id, record.community_id};
  const Exchange& ex = record.exchange;
  const bool receiver_proposed = ex.proposer_id == ex.receiver_id;
  const std::string& receiver_c =
      receiver_proposed ? *record.partner_community_id : record.community_id;
  const std::string& provider_c =
      receiver_proposed ? record.community_id : *record.partner_community_id;
  return {receiver_c, provider_c};
}

int64_t Workflow::now_s() const {
  return s_.clock.now_s();
}

std::string transition_event_type(ExchangeState from, ExchangeState to) {
  using S = ExchangeState;
  switch (to) {
    case S::proposed:
      return from == S::accepting ? "exchange.refused" : "";
    case S::accepting:
      return "exchange.accepting";
    case S::accepted:
      return from == S::accepted ? "exchange.confirmed" : "exchange.accepted";
    default:
      return "exchange." + std::string(to_string(to));
  }
}

void Workflow::publish(pqxx::work& tx, const ExchangeRecord& record, const std::string& type,
                       const Json& extra) {
  Json data = exchange_event_data(record);
  const ExchangeHistoryEntry& last = record.exchange.history.back();
  data["actor_id"] = last.actor_member_id.empty() ? Json(nullptr) : Json(last.actor_member_id);
  data["on_behalf_of"] =
      last.on_behalf_of_member_id.empty() ? Json(nullptr) : Json(last.on_behalf_of_member_id);
  data["reason"] = record.exchange.reason.empty() ? Json(nullptr) : Json(record.exchange.reason);
  data.update(extra);  // copied: `extra` still names the event below
  // Deterministic per (exchange, history position, type): a retried transaction writes the same.
  // Messages and ratings do not move the history: their own ids, in `extra`, tell them apart.
  const std::string name = "event:" + record.exchange.id + ":" +
                           std::to_string(record.exchange.history.size()) + ":" + type + ":" +
                           extra.dump();
  s_.outbox.add(tx, kExchangesStream, type, record.community_id, std::move(data),
                uuid_from_name(name));
}

void Workflow::send_effect(pqxx::work& tx, const ExchangeRecord& record,
                           const ExchangeEffect& effect, const std::string& trigger) {
  const std::string_view command = command_name(effect.kind);
  if (command.empty()) return;  // listing effects travel as exchange.* events
  // One id per (command, transfer): the ledger applies each command once, however often sent.
  // A void sent again after a late hold carries its trigger so that it is not taken for the
  // first void the ledger already applied (before the hold existed).
  std::string name = std::string(command) + ":" + effect.transfer_id;
  if (!trigger.empty()) name += ":" + trigger;
  const std::string event_id = uuid_from_name(name);
  if (repo::outbox_has(tx, event_id)) return;
  // The ledger compares a replayed hold's body with the first: every field here is derived from
  // the exchange alone, so a retry carries exactly the same body.
  Json data = {{"transfer_id", effect.transfer_id}, {"ref", "exchange:" + record.exchange.id}};
  if (effect.kind == ExchangeEffectKind::ledger_hold) {
    const bool loan = record.exchange.mode == ListingMode::lend;
    const bool deposit = is_deposit_transfer(record.exchange, effect.transfer_id);
    const std::string memo = deposit ? "Caution du prêt " : loan ? "Prêt " : "Échange ";
    data.update({{"from_member_id", effect.from_member_id},
                 {"to_member_id", effect.to_member_id},
                 {"minutes", effect.minutes},
                 {"kind", loan ? "loan" : "exchange"},
                 {"memo", memo + record.exchange.id.substr(0, 8)}});
  } else if (effect.kind == ExchangeEffectKind::ledger_post) {
    data["minutes"] = effect.minutes;
  }
  // The ledger reads the payer's community from the envelope; across communities the hold, its
  // post and its void name the payee's too, and cross through the two clearing accounts.
  const PaymentCommunities sides = payment_communities(record);
  if (sides.payee != sides.payer) data["payee_community_id"] = sides.payee;
  s_.outbox.add(tx, kLedgerCommandsStream, "ledger." + std::string(command), sides.payer,
                std::move(data), event_id);
  repo::record_transfer(tx, effect.transfer_id, record.exchange.id,
                        command == "hold" ? "hold-sent" : std::string(command) + "-sent",
                        effect.minutes, std::nullopt);
}

void Workflow::commit_transition(pqxx::work& tx, ExchangeRecord& record,
                                 const ExchangeResult& result, const std::string& event_type) {
  repo::save_exchange(tx, record);
  relay_state(s_, tx, record);             // the other party's installation, when it is another one
  holds_follow_loan(tx, record, now_s());  // a hold is fulfilled by the accept, not the proposal
  for (const ExchangeEffect& effect : result.effects) send_effect(tx, record, effect, "");
  if (!event_type.empty()) publish(tx, record, event_type);
  const ExchangeHistoryEntry& last = record.exchange.history.back();
  // Members count an accepted exchange that was then cancelled against reliability (a no-show
  // counts against the absent party instead: exchange.no_show).
  if (record.exchange.state == ExchangeState::cancelled &&
      record.exchange.no_show_member_id.empty() &&
      (last.state_from == ExchangeState::accepting || last.state_from == ExchangeState::accepted)) {
    publish(tx, record, "exchange.abandoned");
  }
  // A loan that ended or stepped back frees its dates.
  const ExchangeState state = record.exchange.state;
  if (record.exchange.mode == ListingMode::lend &&
      (is_terminal(state) || state == ExchangeState::proposed)) {
    repo::release_booking(tx, record.exchange.id);
  }
}

void Workflow::mark_late_due(pqxx::work& tx) {
  for (const std::string& id : repo::late_loan_ids(tx, kExpiryBatchMax, now_s())) {
    auto record = repo::find_exchange(tx, id, true);
    if (!record) continue;
    ExchangeResult result = mark_late(record->exchange, now_s());
    if (!result.ok()) continue;  // not late by the domain's reckoning: left for a later run
    commit_transition(tx, *record, result, "exchange.late");
  }
}

namespace {

// Across communities (issue 23) each transfer has two legs under one id: receiver → the payer
// community's clearing account, and the payee community's clearing account → provider (a
// clearing account shows as no member). The payer's leg answers for the exchange; the payee's is
// the same transfer seen from the other ledger, and changes nothing here.
bool is_payee_leg(const ExchangeRecord& record, const Json& data) {
  if (!record.partner_community_id) return false;
  const auto from = data.find("from_member_id");
  return from != data.end() && from->is_null();
}

// Whom a hold of the exchange pays, as the ledger names it: the provider, or across communities
// nobody (the payer's clearing account).
std::string held_payee(const ExchangeRecord& record) {
  return record.partner_community_id ? std::string() : record.exchange.provider_id;
}

}  // namespace

// The deposit's answers: held (the hand-over may go on), refused (the exchange is cancelled),
// or the answer to the exchange's own void or post.
void Workflow::on_deposit_answer(pqxx::work& tx, ExchangeRecord& record, const std::string& type,
                                 const Json& data, const std::string& transfer_id) {
  Exchange& ex = record.exchange;
  if (type == "transfer.pending") {
    auto amount = data.find("amount_minutes");
    const bool its_deposit = text_field(data, "from_member_id") == ex.receiver_id &&
                             text_field(data, "to_member_id") == held_payee(record) &&
                             amount != data.end() && amount->is_number_integer() &&
                             amount->get<int64_t>() == ex.deposit_minutes;
    if (!its_deposit) {
      log::warn("a hold under a deposit's id that is not the deposit: ignored",
                {{"transfer", transfer_id}});
      return;
    }
  }
  const ExchangeState before = ex.state;
  const size_t entries = ex.history.size();
  ExchangeResult result =
      apply_deposit_answer(ex, transfer_id, type.substr(type.find('.') + 1), now_s());
  if (!result.ok()) return;
  if (ex.history.size() == entries) {
    repo::save_exchange(tx, record);  // the deposit's state
    relay_state(s_, tx, record);
    for (const ExchangeEffect& effect : result.effects) send_effect(tx, record, effect, "late");
    return;
  }
  commit_transition(tx, record, result, transition_event_type(before, ex.state));
}

namespace {

// The ledger's answer as a transition of the exchange (the system acts).
ExchangeResult apply_ledger_answer(Exchange& ex, const std::string& type,
                                   const std::string& transfer_id, std::optional<int64_t> minutes,
                                   const std::string& reason, int64_t now_s) {
  if (type == "transfer.pending") return apply_ledger_held(ex, transfer_id, now_s);
  if (type == "transfer.rejected") {
    return apply_ledger_rejected(ex, transfer_id, reason.empty() ? "insufficient-credits" : reason,
                                 now_s);
  }
  if (type == "transfer.posted") {
    return apply_ledger_posted(ex, transfer_id, minutes.value_or(0), now_s);
  }
  return apply_ledger_voided(ex, transfer_id, reason, now_s);
}

// A hold answers for this exchange only if it moves what the exchange asked for: a transfer
// that merely borrows an exchange's id never counts as its hold.
bool is_the_exchanges_hold(const ExchangeRecord& record, const Json& data) {
  const Exchange& ex = record.exchange;
  auto amount = data.find("amount_minutes");
  return text_field(data, "from_member_id") == ex.receiver_id &&
         text_field(data, "to_member_id") == held_payee(record) && amount != data.end() &&
         amount->is_number_integer() && amount->get<int64_t>() == ex.minutes;
}

bool is_ledger_answer(const std::string& type) {
  return type == "transfer.pending" || type == "transfer.rejected" || type == "transfer.posted" ||
         type == "transfer.voided";
}

}  // namespace

void Workflow::on_ledger_event(pqxx::work& tx, const std::string& type, const Json& data) {
  std::string transfer_id = text_field(data, "transfer_id");
  if (transfer_id.empty()) transfer_id = text_field(data, "id");
  auto exchange_id = exchange_of_transfer(transfer_id);
  if (!exchange_id) return;  // a transfer of another service (depot, grants)
  auto record = repo::find_exchange(tx, *exchange_id, true);
  if (!record) {
    log::warn("ledger event for an unknown exchange", {{"transfer", transfer_id}});
    return;
  }
  // A mirror's money is the other installation's: its ledger settles it there.
  if (is_payee_leg(*record, data) || record->mirror) return;
  const std::string state = type.substr(type.find('.') + 1);
  std::optional<int64_t> minutes;
  for (const char* field : {"posted_minutes", "amount_minutes", "minutes"}) {
    auto it = data.find(field);
    if (minutes || it == data.end() || !it->is_number_integer()) continue;
    if (type != "transfer.posted" && std::string(field) == "posted_minutes") continue;
    minutes = it->get<int64_t>();
  }
  const std::string reason = text_field(data, "reason");
  repo::record_transfer(tx, transfer_id, *exchange_id, state, minutes,
                        reason.empty() ? std::nullopt : std::optional(reason));
  if (!is_ledger_answer(type)) return;
  if (is_deposit_transfer(record->exchange, transfer_id)) {
    on_deposit_answer(tx, *record, type, data, transfer_id);
    return;
  }
  if (type == "transfer.pending" && !is_the_exchanges_hold(*record, data)) {
    log::warn("a hold under an exchange's id that is not its hold: ignored",
              {{"transfer", transfer_id}});
    return;
  }
  const ExchangeState before = record->exchange.state;
  const size_t entries = record->exchange.history.size();
  ExchangeResult result =
      apply_ledger_answer(record->exchange, type, transfer_id, minutes, reason, now_s());
  if (!result.ok()) {
    log::warn("ledger event does not apply to the exchange", {{"transfer", transfer_id}});
    return;
  }
  if (record->exchange.history.size() == entries) {
    // A duplicate, or a hold nobody waits for any more: at most a void to send back.
    for (const ExchangeEffect& effect : result.effects) send_effect(tx, *record, effect, "late");
    return;
  }
  commit_transition(tx, *record, result, transition_event_type(before, record->exchange.state));
}

void Workflow::cancel_exchanges_of(pqxx::work& tx, const std::string& member_id,
                                   std::string_view reason) {
  // Each pass cancels what it found, so the next one finds only what is left; a member with more
  // open exchanges than this bound allows is a bug, not a workload.
  constexpr int kPassesMax = 50;
  for (int pass = 0; pass < kPassesMax; ++pass) {
    const auto ids = repo::open_exchange_ids_of_member(tx, member_id, kMemberExchangesBatchMax);
    for (const std::string& id : ids) {
      auto record = repo::find_exchange(tx, id, true);
      if (!record) continue;
      ExchangeResult result = cancel_by_system(record->exchange, reason, now_s());
      if (!result.ok()) throw std::logic_error("an open exchange the system cannot cancel");
      commit_transition(tx, *record, result, "exchange.cancelled");
    }
    if (static_cast<int>(ids.size()) < kMemberExchangesBatchMax) break;
    if (pass + 1 == kPassesMax) throw std::runtime_error("too many open exchanges for one member");
  }
  // Those living at a partner installation are cancelled there, asked once each.
  for (const std::string& id :
       repo::open_mirror_ids_of_member(tx, member_id, kMemberExchangesBatchMax)) {
    if (auto mirror = repo::find_exchange(tx, id, true))
      relay_system_cancel(s_, tx, *mirror, member_id, reason);
  }
}

void Workflow::expire_due(pqxx::work& tx) {
  for (const std::string& id : repo::expirable_exchange_ids(tx, kExpiryBatchMax, now_s())) {
    auto record = repo::find_exchange(tx, id, true);
    if (!record) continue;
    const CommunityPolicy policy = repo::community_policy(tx, *record);
    ExchangeResult result =
        expire_proposal(record->exchange, ExchangeActor::system(), policy, now_s());
    if (!result.ok()) continue;  // not expired by the domain's reckoning: left for a later run
    commit_transition(tx, *record, result, "exchange.expired");
  }
}

}  // namespace maillon::exchange
