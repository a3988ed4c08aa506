// What the ledger reacts to: communities and members from the members stream (accounts, joining
// bonus, erasure), commands from other services on ledger.commands, and its periodic jobs.
#include <cstdlib>
#include <ctime>

#include "services/common/config.hpp"
#include "services/common/directory.hpp"
#include "services/common/events.hpp"
#include "services/common/events_exchange_relay.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/ledger/federation.hpp"
#include "services/ledger/federation_remote.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/repository.hpp"

namespace maillon::ledger {
namespace {

using Json = nlohmann::json;

std::string text_field(const Json& data, const char* name) {
  const auto it = data.find(name);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

BatchOutcome apply_one(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                       const std::string& community_id, LedgerCommand command, int64_t now_us) {
  Batch batch{community_id, {std::move(command)}, {}, {}, now_us};
  // The policy comes with the batch's lock (no statement of its own), and is remembered.
  return apply_batch(tx, outbox, batch, policies);
}

// Pays the joining bonus once: its id is named after the member (signup_bonus_transfer_id), so a
// replayed registration or approval finds it paid, and no client can create that id first.
void pay_signup_bonus(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                      const std::string& community_id, const std::string& member_id,
                      int64_t now_us) {
  const CommunityPolicy policy = policies.get(tx, community_id);
  if (policy.signup_bonus <= 0) return;
  // Bonuses paid before ids left the UUID namespace were named uuid_from_name("bonus:<member>");
  // a client may have taken that id for a transfer of its own, whose kind is never bonus.
  const auto legacy = repo::find_transfer(tx, community_id, uuid_from_name("bonus:" + member_id));
  if (legacy && legacy->request.kind == TransferKind::bonus) return;
  TransferRequest bonus{signup_bonus_transfer_id(member_id),
                        community_account_id(community_id),
                        member_id,
                        policy.signup_bonus,
                        false,
                        0,
                        TransferKind::bonus,
                        "Bonus de bienvenue",
                        "signup"};
  apply_one(tx, outbox, policies, community_id, CreateTransfer{bonus, 0}, now_us);
}

// A member awaiting approval (membership "approval") gets an account at once, to see it, but the
// bonus only on member.approved. A registration that names no status is an active member's.
void on_member_registered(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                          const MemberIdentity& m, int64_t now_us) {
  if (!m.community_id) return;  // administrators have no account
  if (!repo::open_accounts(tx, *m.community_id, m.member_id)) return;
  if (m.status == MemberStatus::pending) return;
  pay_signup_bonus(tx, outbox, policies, *m.community_id, m.member_id, now_us);
}

void on_member_approved(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                        const MemberStanding& m, int64_t now_us) {
  repo::open_accounts(tx, m.community_id, m.member_id);  // in case the registration went unseen
  pay_signup_bonus(tx, outbox, policies, m.community_id, m.member_id, now_us);
}

// Communities go to the directory (the policy cache forgets what changed).
void on_members_event(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies, const Event& e,
                      int64_t now_us) {
  if (directory::apply(tx, e)) {
    if (e.type == "community.updated")
      policies.forget(CommunityDescribed::read(e).value().community_id);
  } else if (e.type == "member.registered") {
    on_member_registered(tx, outbox, policies, MemberIdentity::read(e).value(), now_us);
  } else if (e.type == "member.approved") {
    on_member_approved(tx, outbox, policies, MemberStanding::read(e).value(), now_us);
  } else if (e.type == "member.erased") {
    const MemberErased erased = MemberErased::read(e).value();
    repo::set_pseudonym(tx, erased.member_id, erased.pseudonym);
  }
}

// --- ledger.commands -------------------------------------------------------------------------

// Absent, null or empty: the community's own account.
std::string member_account(const std::optional<std::string>& member,
                           const std::string& community_id) {
  return member && !member->empty() ? *member : community_account_id(community_id);
}

// A command (read by its typed reader) → a domain command; std::invalid_argument when it does
// not make sense.
LedgerCommand command_from(const LedgerCommandEvent& c, const std::string& community_id) {
  const std::string& id = c.transfer_id;
  // Sagas name their transfers outside the clients' namespace (UUIDs), and settle only those:
  // the two never meet, so a client can neither settle a saga's hold nor a saga a client's.
  if (id.empty() || id.size() > kLedgerIdBytesMax || is_client_transfer_id(id) ||
      id.find('\0') != std::string::npos) {
    throw std::invalid_argument("transfer_id");
  }
  // A clearing account moves only through a federated transfer's legs (federation.hpp).
  if (is_clearing_account_id(c.from_member_id.value_or("")) ||
      is_clearing_account_id(c.to_member_id.value_or(""))) {
    throw std::invalid_argument("member");
  }
  if (c.type == LedgerCommandType::post) return PostTransfer{id, c.minutes, 0};
  if (c.type == LedgerCommandType::void_hold) return VoidTransfer{id, 0};
  TransferRequest request{id,
                          member_account(c.from_member_id, community_id),
                          member_account(c.to_member_id, community_id),
                          required(c.minutes, "minutes"),
                          c.type == LedgerCommandType::hold,
                          c.timeout_s.value_or(0),
                          required(c.kind, "kind"),
                          c.memo.value_or(""),
                          c.ref.value_or("")};
  return CreateTransfer{request, 0};
}

void reject(pqxx::work& tx, const Outbox& outbox, const std::string& community_id,
            const std::string& event_id, const Json& data, const std::string& reason) {
  TransferEvent rejected;
  rejected.type = TransferEventType::rejected;
  rejected.transfer_id = text_field(data, "transfer_id");
  rejected.reason = reason;
  rejected.ref = text_field(data, "ref");
  outbox.add(tx, kEventsStream, rejected.type_name(), community_id, rejected.data(),
             uuid_from_name("ledger-rejected:" + event_id));
}

}  // namespace

void apply_command_event(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                         const std::string& community_id, const nlohmann::json& data,
                         const std::string& type, const std::string& event_id, int64_t now_us) {
  if (!is_uuid(community_id)) throw std::runtime_error("a ledger command needs its community");
  Event e;
  e.type = type;
  e.data = data;
  // A command that cannot be read is refused to its saga (invalid-command), as one that makes
  // no sense: the saga waits for an answer, the dead letter would leave it waiting.
  const Read<LedgerCommandEvent> read = LedgerCommandEvent::read(e);
  LedgerCommand command;
  std::optional<federation::FederatedCommand> federated;
  try {
    if (!read) throw std::invalid_argument(read.reason());
    command = command_from(*read, community_id);
    // payee_community_id names another community: two legs through the clearing accounts.
    if (read->payee_community_id && *read->payee_community_id != community_id)
      federated = federation::federated_command_from(*read, community_id);
    else
      federated = federation::leg_settlement(tx, *read, community_id);
  } catch (const std::invalid_argument&) {
    reject(tx, outbox, community_id, event_id, data, "invalid-command");
    return;
  }
  if (federated) {
    const auto result =
        federation::apply_federated_command(tx, outbox, policies, *federated, now_us);
    if (!result.accepted()) reject(tx, outbox, community_id, event_id, data, result.refusal);
    return;
  }
  const BatchOutcome outcome = apply_one(tx, outbox, policies, community_id, command, now_us);
  const LedgerOutcome result = outcome.results.front().outcome;
  // `exists` is a replay: the first result was already published, nothing moves again.
  if (!is_accepted(result))
    reject(tx, outbox, community_id, event_id, data, std::string(to_string(result)));
}

namespace {

int64_t env_interval_ms(const char* name, int64_t fallback_ms) {
  return Config::integer(name, fallback_ms, 10, 86'400'000LL);
}

void expire_due(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies, int64_t now) {
  std::map<std::string, std::vector<TransferId>> by_community;
  for (auto& due : repo::due_transfers(tx, now, kExpireBatchMax)) {
    by_community[due.community_id].push_back(due.id);
  }
  // Both legs of a federated hold expire together (they share their deadline).
  federation::add_mirror_legs(tx, by_community);
  for (auto& [community_id, ids] : by_community) {
    Batch batch{community_id, {}, ids, {}, now};
    apply_batch(tx, outbox, batch, policies);
  }
}

std::string month_utc(int64_t at_us) {
  const std::time_t seconds = static_cast<std::time_t>(at_us / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m", &utc);
  return text;
}

// Pays this month's allowance to active members; the transfer id is named after (member, month),
// so a second replica or a re-run finds it and pays nothing twice, and no client can create it
// first. Who was paid this month is found by kind and ref, whatever the id (older allowances
// were named with uuid_from_name).
void pay_allowances(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies, int64_t now) {
  constexpr int64_t kActiveWindowUs = 60LL * 24 * 3600 * 1'000'000;
  const std::string month = month_utc(now);
  for (const auto& community_id : directory::community_ids(tx)) {
    const CommunityPolicy policy = policies.get(tx, community_id);
    if (policy.monthly_allowance <= 0) continue;
    Batch batch{community_id, {}, {}, {}, now};
    for (const auto& member : repo::allowance_candidates(
             tx, community_id, "allowance:" + month, now - kActiveWindowUs,
             policy.monthly_allowance, policy.max_balance, kAllowanceBatchMax)) {
      TransferRequest request{allowance_transfer_id(member, month),
                              community_account_id(community_id),
                              member,
                              policy.monthly_allowance,
                              false,
                              0,
                              TransferKind::allowance,
                              "Allocation mensuelle",
                              "allowance:" + month};
      batch.commands.emplace_back(CreateTransfer{request, 0});
    }
    if (!batch.commands.empty()) apply_batch(tx, outbox, batch, policy);
  }
}

}  // namespace

void register_consumers(Service& s, PolicyCache& policies) {
  s.consume("members", [&s, &policies](pqxx::work& tx, const Event& e) {
    on_members_event(tx, s.outbox, policies, e, s.clock.now_us());
  });
  s.consume("ledger.commands", [&s, &policies](pqxx::work& tx, const Event& e) {
    // Not a transfer: a message for a partner installation about an exchange (issue 23).
    if (e.type == ExchangeRelayCommand::type_name()) return remote::relay_exchange_command(tx, e);
    apply_command_event(tx, s.outbox, policies, e.community_id, e.data, e.type, e.id,
                        s.clock.now_us());
  });
  const auto expire_ms = env_interval_ms("MAILLON_LEDGER_EXPIRE_INTERVAL_MS", 1000);
  const auto allowance_ms = env_interval_ms("MAILLON_LEDGER_ALLOWANCE_INTERVAL_MS", 3'600'000);
  s.every("expire-holds", std::chrono::milliseconds(expire_ms), [&s, &policies](pqxx::work& tx) {
    expire_due(tx, s.outbox, policies, s.clock.now_us());
  });
  s.every("monthly-allowance", std::chrono::milliseconds(allowance_ms),
          [&s, &policies](pqxx::work& tx) {
            pay_allowances(tx, s.outbox, policies, s.clock.now_us());
          });
}

}  // namespace maillon::ledger
