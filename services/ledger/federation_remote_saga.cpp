// Transfers between installations: a two-phase saga whose coordinator is the payer's ledger.
// The payer's side holds payer -> clearing and asks the partner (transfer.hold); the payee's
// side holds clearing -> payee and answers; then the payer's side posts its leg and tells the
// partner (transfer.post), or voids and tells it (transfer.void) on a refusal or when the hold
// was not confirmed in time. Every step is one PostgreSQL transaction that records the saga's
// state with the leg and the next message, so a crash anywhere resumes from the database: the
// sender retries a message until answered, and the partner answers a known message id with its
// first answer. The payee's side never decides alone once it holds: it waits for the payer's.
#include <algorithm>
#include <map>

#include "services/common/auth.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/ledger/federation_remote_internal.hpp"
#include "services/ledger/federation_repository.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/repository.hpp"
#include "services/ledger/transfer_json.hpp"

namespace maillon::ledger::remote {
namespace {

using federation::FederatedCommand;
using federation::FederatedResult;
using federation::LegType;

constexpr const char* kDefaultMemo = "Échange entre installations";

std::string ref_of(const std::string& link_id) {
  return "federation:" + link_id;
}

FederatedResult refused(std::string reason) {
  FederatedResult r;
  r.refusal = std::move(reason);
  return r;
}

FederatedResult refused(LedgerOutcome outcome) {
  FederatedResult r = refused(std::string(to_string(outcome)));
  r.outcome = outcome;
  return r;
}

// The command of our leg (F1's apply_leg takes our side's minutes).
FederatedCommand leg_of(const RemoteTransfer& t, LegType type) {
  FederatedCommand c;
  c.type = type;
  c.transfer_id = t.id;
  const bool payer = t.role == "payer";
  c.payer_community_id = payer ? t.community_id : t.partner_community_id;
  c.payee_community_id = payer ? t.partner_community_id : t.community_id;
  c.from_member_id = t.payer_member_id;
  c.to_member_id = t.payee_member_id;
  if (type == LegType::hold) c.minutes = t.minutes;
  c.kind = TransferKind::exchange;
  c.memo = t.memo;
  c.ref = ref_of(t.link_id);
  return c;
}

FederatedResult apply_our_leg(RemoteFederation& f, pqxx::work& tx, const Link& ours,
                              const RemoteTransfer& t, LegType type, int64_t now_us) {
  return federation::apply_leg(tx, f.service().outbox, f.policies(), ours, leg_of(t, type), now_us);
}

Json transfer_payload(const RemoteTransfer& t) {
  // The partner's view: its minutes are our partner_minutes and the other way round.
  return {{"transfer_id", t.id},
          {"payer_member_id", t.payer_member_id},
          {"payee_member_id", t.payee_member_id},
          {"minutes", t.partner_minutes},
          {"partner_minutes", t.minutes},
          {"memo", t.memo},
          {"deadline_us", t.deadline_us}};
}

Json answer(std::string_view status, std::string_view reason = "") {
  Json a = {{"status", status}};
  if (!reason.empty()) a["reason"] = reason;
  return a;
}

// A saga's id, the same in both ledgers: the prefix, then a client's id (a UUID: a direct
// payment) or an exchange's transfer ("exchange:<uuid>:<attempt>" or ":deposit-<attempt>").
bool valid_saga_id(const std::string& id) {
  if (!id.starts_with(kTransferIdPrefix) || id.size() > kLedgerIdBytesMax) return false;
  const std::string rest = id.substr(kTransferIdPrefix.size());
  if (is_uuid(rest)) return true;
  constexpr std::string_view kExchange = "exchange:";
  if (!rest.starts_with(kExchange) || rest.size() < kExchange.size() + 38) return false;
  if (!is_uuid(rest.substr(kExchange.size(), 36)) || rest[kExchange.size() + 36] != ':')
    return false;
  const std::string attempt = rest.substr(kExchange.size() + 37);
  return !attempt.empty() && std::all_of(attempt.begin(), attempt.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool same_request(const RemoteTransfer& a, const RemoteTransfer& b) {
  return a.link_id == b.link_id && a.payer_member_id == b.payer_member_id &&
         a.payee_member_id == b.payee_member_id && a.minutes == b.minutes;
}

// --- the payee's side ----------------------------------------------------------------------

struct Asked {
  RemoteTransfer transfer;
  bool valid = false;
};

// The transfer a message names, seen from our side (minutes are ours in the payload).
Asked read_asked(const Link& link, const Json& p, int64_t now_us) {
  auto text = [&p](const char* name) {
    const auto it = p.find(name);
    return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto integer = [&p](const char* name) {
    const auto it = p.find(name);
    return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  Asked a;
  RemoteTransfer& t = a.transfer;
  t.id = text("transfer_id");
  t.community_id = link.community_id;
  t.link_id = link.id;
  t.partner_community_id = link.partner_community_id;
  t.role = "payee";
  t.payer_member_id = text("payer_member_id");
  t.payee_member_id = text("payee_member_id");
  t.minutes = integer("minutes");
  t.partner_minutes = integer("partner_minutes");
  t.state = "held";
  t.memo = text("memo");
  // At most kTransferMemoCharsMax characters, cut between two (a partner checked it already).
  for (std::size_t at = 0, chars = 0; at < t.memo.size(); ++at) {
    if ((static_cast<unsigned char>(t.memo[at]) & 0xC0) != 0x80 &&
        ++chars > kTransferMemoCharsMax) {
      t.memo.resize(at);
      break;
    }
  }
  t.deadline_us = integer("deadline_us");
  t.created_at_us = now_us;
  a.valid = valid_saga_id(t.id) && is_uuid(t.payer_member_id) && is_uuid(t.payee_member_id) &&
            t.minutes > 0 && t.minutes <= kTransferMinutesMax && t.partner_minutes > 0 &&
            t.partner_minutes <= kTransferMinutesMax;
  return a;
}

Json answer_for_known(const RemoteTransfer& known, const RemoteTransfer& asked) {
  if (known.role != "payee" || !same_request(known, asked)) return answer("refused", "id-conflict");
  if (known.state == "voided")
    return answer("refused", known.reason.empty() ? "voided" : known.reason);
  return answer("held");
}

// Their minutes converted with our rate (their minutes per one of ours, inverted) are ours,
// give or take the rounding of each conversion.
bool rate_agrees(const Link& link, const RemoteTransfer& t) {
  const int64_t back = partner_minutes(t.minutes, link.rate_micro);
  return std::llabs(back - t.partner_minutes) <= 1 + t.partner_minutes / 100;
}

Json on_hold(RemoteFederation& f, pqxx::work& tx, const Link& link, const Asked& asked,
             int64_t now_us) {
  const RemoteTransfer& t = asked.transfer;
  if (const auto known = repo::find_transfer(tx, t.id, true)) return answer_for_known(*known, t);
  if (t.deadline_us <= now_us) return answer("refused", "expired");
  if (!rate_agrees(link, t)) return answer("refused", "rate-mismatch");
  const FederatedResult held = apply_our_leg(f, tx, link, t, LegType::hold, now_us);
  if (!held.accepted()) return answer("refused", held.refusal);
  repo::insert_transfer(tx, t, now_us);
  return answer("held");
}

Json on_settle(RemoteFederation& f, pqxx::work& tx, const Link& link, const Asked& asked, bool post,
               int64_t now_us) {
  const RemoteTransfer& t = asked.transfer;
  const auto known = repo::find_transfer(tx, t.id, true);
  if (known && (known->role != "payee" || !same_request(*known, t)))
    return answer("refused", "id-conflict");
  if (!known) {
    if (post) return answer("refused", "not-found");
    // The void overtook its hold (lost, or still retried): a tombstone refuses the hold later.
    RemoteTransfer tombstone = t;
    tombstone.state = "voided";
    tombstone.has_leg = false;
    tombstone.reason = "voided-before-hold";
    repo::insert_transfer(tx, tombstone, now_us);
    return answer("voided");
  }
  const std::string target = post ? "posted" : "voided";
  if (known->state == target) return answer(target);
  if (known->state != "held") return answer("refused", "already-" + known->state);
  const FederatedResult settled =
      apply_our_leg(f, tx, link, *known, post ? LegType::post : LegType::void_hold, now_us);
  if (!settled.accepted()) {
    log::error("federation: the payee's leg could not be settled",
               {{"transfer_id", t.id}, {"refusal", settled.refusal}});
    return answer("refused", settled.refusal);
  }
  repo::set_transfer_state(tx, t.id, target, post ? "" : "voided-by-payer", now_us);
  return answer(target);
}

// --- the payer's side ----------------------------------------------------------------------

std::optional<Link> link_of(pqxx::work& tx, const RemoteTransfer& t) {
  return federation::find_link(tx, t.link_id, t.community_id);
}

// What the exchange that opened an until-told saga hears of its payment, under its own transfer
// id (the saga's without its prefix): transfer.pending once both sides hold, transfer.posted or
// transfer.voided when settled, transfer.rejected when the partner refused the hold. Our leg's
// own events carry the saga's id, which the exchange does not take for its own: it learns of a
// hold only once the partner holds too.
void tell_exchange(RemoteFederation& f, pqxx::work& tx, const RemoteTransfer& t,
                   const std::string& reason = "", bool rejected = false) {
  // `reason` goes with a refusal only: a voided leg says voided, as every void of the ledger.
  if (!t.until_told) return;
  const std::string exchange_id = t.id.substr(kTransferIdPrefix.size());
  const std::string event_id = uuid_from_name("federation-exchange:" + t.id + ":" +
                                              (rejected ? std::string("rejected") : t.state));
  if (rejected) {
    TransferEvent e;
    e.type = TransferEventType::rejected;
    e.transfer_id = exchange_id;
    e.reason = reason.empty() ? "refused" : reason;
    // The exchange's own ref ("exchange:<uuid>"), from its transfer id.
    e.ref = exchange_id.substr(0, exchange_id.find(':', exchange_id.find(':') + 1));
    f.service().outbox.add(tx, kEventsStream, e.type_name(), t.community_id, e.data(), event_id);
    return;
  }
  const auto leg = ledger::repo::find_transfer(tx, t.community_id, t.id);
  if (!leg) return;
  Event e = transfer_event(event_id, t.community_id, "", *leg);
  e.data["transfer_id"] = exchange_id;
  f.service().outbox.add(tx, kEventsStream, e.type, t.community_id, e.data, event_id);
}

// Decides void: the payer's leg released, the hold not asked any more, the partner told.
void decide_void(RemoteFederation& f, pqxx::work& tx, const RemoteTransfer& t,
                 const std::string& reason, bool tell_partner, int64_t now_us) {
  const auto link = link_of(tx, t);
  apply_our_leg(f, tx, *link, t, LegType::void_hold, now_us);
  repo::cancel_messages(tx, t.id, std::string(kTransferHold));
  if (tell_partner) queue_message(tx, *link, kTransferVoid, transfer_payload(t), t.id, now_us);
  repo::set_transfer_state(tx, t.id, tell_partner ? "voiding" : "voided", reason, now_us);
  // The exchange was told of the hold only once both sides held: before, it hears a refusal.
  RemoteTransfer told = t;
  told.state = "voided";
  tell_exchange(f, tx, told, reason, t.state == "holding");
}

}  // namespace

Json remote_transfer_json(const RemoteTransfer& t) {
  Json j = {{"id", t.id},
            {"link_id", t.link_id},
            {"community_id", t.community_id},
            {"partner_community_id", t.partner_community_id},
            {"role", t.role},
            {"payer_member_id", t.payer_member_id},
            {"payee_member_id", t.payee_member_id},
            {"minutes", t.minutes},
            {"partner_minutes", t.partner_minutes},
            {"state", t.state},
            {"memo", t.memo},
            {"created_at", format_rfc3339_us(t.created_at_us, 0)}};
  if (!t.reason.empty()) j["reason"] = t.reason;
  return j;
}

Json on_transfer_message(RemoteFederation& f, pqxx::work& tx, const Link& link, const Envelope& e) {
  const int64_t now_us = f.service().clock.now_us();
  const Asked asked = read_asked(link, e.payload, now_us);
  if (!asked.valid) return answer("refused", "invalid-transfer");
  if (e.type == kTransferHold) return on_hold(f, tx, link, asked, now_us);
  return on_settle(f, tx, link, asked, e.type == kTransferPost, now_us);
}

void on_transfer_answer(RemoteFederation& f, pqxx::work& tx, const repo::OutgoingMessage& m,
                        const Json& a) {
  const int64_t now_us = f.service().clock.now_us();
  const auto t = repo::find_transfer(tx, m.transfer_id, true);
  if (!t || t->role != "payer") return;
  const std::string status = a.value("status", "");
  if (m.type == kTransferHold) {
    if (t->state != "holding") return;  // the timeout (or the exchange's void) decided first
    RemoteTransfer told = *t;
    told.state = "held";
    if (status == "held" && t->until_told && t->settle_asked != "post") {
      // An exchange's payment: held on both sides until the exchange ends (its ledger.post or
      // ledger.void, settle_transfer).
      repo::set_transfer_state(tx, t->id, "held", "", now_us);
      tell_exchange(f, tx, told);
    } else if (status == "held") {
      fault(f.settings(), "crash-before-post");
      tell_exchange(f, tx, told);
      const auto link = link_of(tx, *t);
      apply_our_leg(f, tx, *link, *t, LegType::post, now_us);
      queue_message(tx, *link, kTransferPost, transfer_payload(*t), t->id, now_us);
      repo::set_transfer_state(tx, t->id, "posting", "", now_us);
      told.state = "posting";
      tell_exchange(f, tx, told);
    } else {
      decide_void(f, tx, *t, a.value("reason", "refused"), false, now_us);
    }
    return;
  }
  const std::string settled = m.type == kTransferPost ? "posted" : "voided";
  if (status != settled) {
    log::error("federation: the partner did not settle as decided",
               {{"transfer_id", t->id}, {"answer", a.dump()}});
    return;  // left in posting / voiding: the reconciliation shows it to both admins
  }
  repo::set_transfer_state(tx, t->id, settled, "", now_us);
}

std::size_t void_overdue_holds(RemoteFederation& f) {
  Service& s = f.service();
  const auto ids = read_only(s.db, [&](pqxx::nontransaction& tx) {
    return repo::overdue_holds(tx, s.clock.now_us(), kSendBatchMax);
  });
  for (const auto& id : ids) {
    s.db.transact([&](pqxx::work& tx) {
      const auto t = repo::find_transfer(tx, id, true);
      if (!t || t->state != "holding") return;
      log::warn("federation: hold not confirmed in time, voided on both sides",
                {{"transfer_id", id}});
      decide_void(f, tx, *t, "timeout", true, s.clock.now_us());
    });
  }
  return ids.size();
}

namespace {

std::string saga_id_of(const std::string& transfer_id) {
  return transfer_id.starts_with(kTransferIdPrefix) ? transfer_id
                                                    : std::string(kTransferIdPrefix) + transfer_id;
}

FederatedResult settled_already() {
  FederatedResult again;
  again.outcome = LedgerOutcome::exists;
  return again;
}

// An exchange's ledger.post or ledger.void of its payment across installations: once both sides
// hold, our leg settled and the partner told (transfer.post / transfer.void); before the partner
// answered the hold, a void is applied at once (a late hold is refused over there) and a post is
// remembered for when the hold is answered.
FederatedResult settle_transfer(RemoteFederation& f, pqxx::work& tx, const FederatedCommand& c,
                                int64_t now_us) {
  const std::string id = saga_id_of(c.transfer_id);
  const auto t = repo::find_transfer(tx, id, true);
  if (!t || t->role != "payer" || !t->until_told) return refused(LedgerOutcome::not_found);
  const bool post = c.type == LegType::post;
  // A payment across is settled whole: its two legs are converted at the link's rate once.
  if (post && c.minutes && *c.minutes != t->minutes) return refused(LedgerOutcome::invalid_amount);
  if (t->state == (post ? "posting" : "voiding") || t->state == (post ? "posted" : "voided"))
    return settled_already();
  if (t->state == "held" && post) {
    const auto link = link_of(tx, *t);
    FederatedResult r = apply_our_leg(f, tx, *link, *t, LegType::post, now_us);
    if (!r.accepted()) return r;
    queue_message(tx, *link, kTransferPost, transfer_payload(*t), t->id, now_us);
    repo::set_transfer_state(tx, t->id, "posting", "", now_us);
    RemoteTransfer told = *t;
    told.state = "posting";
    tell_exchange(f, tx, told);
    return r;
  }
  if ((t->state == "held" || t->state == "holding") && !post) {
    decide_void(f, tx, *t, "voided-by-exchange", true, now_us);
    return {};
  }
  if (t->state == "holding" && post) {
    repo::set_settle_asked(tx, t->id, "post", now_us);
    return {};
  }
  return refused("already-" + t->state);
}

}  // namespace

FederatedResult RemoteFederation::start_transfer(pqxx::work& tx, const Link& ours,
                                                 const FederatedCommand& c, int64_t now_us) {
  if (c.type == LegType::post || c.type == LegType::void_hold)
    return settle_transfer(*this, tx, c, now_us);
  if (!c.minutes) return refused(federation::kNoFederationLink);
  RemoteTransfer t;
  t.id = saga_id_of(c.transfer_id);
  // An exchange's hold: both legs held until the exchange posts or voids them.
  t.until_told = c.type == LegType::hold;
  t.community_id = ours.community_id;
  t.link_id = ours.id;
  t.partner_community_id = ours.partner_community_id;
  t.role = "payer";
  t.payer_member_id = c.from_member_id;
  t.payee_member_id = c.to_member_id;
  t.minutes = *c.minutes;
  t.partner_minutes = partner_minutes(t.minutes, ours.rate_micro);
  t.state = "holding";
  t.memo = c.memo.empty() ? kDefaultMemo : c.memo;
  t.deadline_us = now_us + settings_.hold_timeout_us;
  t.created_at_us = now_us;
  if (const auto known = repo::find_transfer(tx, t.id)) {
    if (known->role != "payer" || !same_request(*known, t))
      return refused(LedgerOutcome::exists_with_different_body);
    FederatedResult again;
    again.outcome = LedgerOutcome::exists;
    again.payer_leg = ledger::repo::find_transfer(tx, t.community_id, t.id);
    return again;
  }
  if (t.partner_minutes <= 0) return refused(LedgerOutcome::invalid_amount);
  FederatedResult held = apply_our_leg(*this, tx, ours, t, LegType::hold, now_us);
  if (!held.accepted()) return held;
  repo::insert_transfer(tx, t, now_us);
  queue_message(tx, ours, kTransferHold, transfer_payload(t), t.id, now_us);
  fault(settings_, "crash-before-hold");
  return held;
}

std::optional<RemoteTransfer> RemoteFederation::find_transfer(const std::string& id) {
  return read_only(s_.db, [&](pqxx::nontransaction& tx) { return repo::find_transfer(tx, id); });
}

Json leg_json(const ClearingLeg& leg) {
  return {{"id", leg.id},
          {"paid_across", leg.paid_across},
          {"state", std::string(to_string(leg.state))},
          {"amount_minutes", leg.amount_minutes},
          {"posted_minutes", leg.posted_minutes}};
}

std::optional<ClearingLeg> leg_from(const Json& j) {
  const auto state = transfer_state_from_string(j.value("state", ""));
  if (!j.is_object() || !state) return std::nullopt;
  return ClearingLeg{j.value("id", ""), j.value("paid_across", false), *state,
                     j.value("amount_minutes", int64_t{0}), j.value("posted_minutes", int64_t{0})};
}

Json reconcile_view(pqxx::work& tx, const Link& link) {
  // No leg through the clearing account is half-written while it is read.
  federation::repo::lock_communities(tx, {link.community_id});
  const auto legs =
      federation::repo::clearing_legs(tx, link.community_id, link.partner_community_id);
  Json out = Json::array();
  for (std::size_t i = 0; i < legs.size() && i < kClearingLegsMax; ++i)
    out.push_back(leg_json(legs[i]));
  const auto clearing =
      federation::repo::clearing_account(tx, link.community_id, link.partner_community_id);
  return {{"status", "ok"},
          {"community_id", link.community_id},
          {"rate_micro", link.rate_micro},
          {"balance_minutes", clearing ? clearing->balance_minutes : 0},
          {"pending_debit_minutes", clearing ? clearing->pending_debit_minutes : 0},
          {"pending_credit_minutes", clearing ? clearing->pending_credit_minutes : 0},
          {"legs", out},
          {"truncated", legs.size() > kClearingLegsMax}};
}

}  // namespace maillon::ledger::remote
