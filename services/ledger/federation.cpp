// Federation core: link changes with their events, and transfers paid across a link in two legs
// (see federation.hpp). The legs go through the ledger's own batch (apply_batch), so the rules,
// the rows and the transfer.* events are the ones every other transfer has.
#include "services/ledger/federation.hpp"

#include <algorithm>
#include <mutex>
#include <set>
#include <stdexcept>

#include "services/common/events.hpp"
#include "services/common/text.hpp"
#include "services/ledger/federation_repository.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/repository.hpp"

namespace maillon::ledger::federation {
namespace {

std::mutex& hooks_mutex() {
  static std::mutex m;
  return m;
}
RemoteHooks& hooks_storage() {
  static RemoteHooks hooks;
  return hooks;
}

void emit_updated(pqxx::work& tx, const Outbox& outbox, const Link& side) {
  FederationLinkUpdated e{side.id, side.community_id, side.partner_community_id, side.state,
                          side.partner_url};
  outbox.add(tx, kEventsStream, FederationLinkUpdated::type_name(), side.community_id, e.data());
}

FederatedResult refused(std::string reason, LedgerOutcome outcome = LedgerOutcome::ok) {
  FederatedResult r;
  r.outcome = outcome;
  r.refusal = std::move(reason);
  return r;
}

FederatedResult refused(LedgerOutcome outcome) {
  return refused(std::string(to_string(outcome)), outcome);
}

bool creates(const FederatedCommand& c) {
  return c.type == LegType::hold || c.type == LegType::transfer;
}

// The leg of one side as a domain command. `payer` tells the side; `minutes` are that side's.
LedgerCommand leg_command(const FederatedCommand& c, bool payer,
                          std::optional<int64_t> side_minutes) {
  if (c.type == LegType::post) return PostTransfer{c.transfer_id, side_minutes, 0};
  if (c.type == LegType::void_hold) return VoidTransfer{c.transfer_id, 0};
  const std::string& ours = payer ? c.payer_community_id : c.payee_community_id;
  const std::string& partner = payer ? c.payee_community_id : c.payer_community_id;
  const std::string clearing = clearing_account_id(ours, partner);
  TransferRequest request{c.transfer_id,
                          payer ? c.from_member_id : clearing,
                          payer ? clearing : c.to_member_id,
                          side_minutes.value_or(0),
                          c.type == LegType::hold,
                          c.type == LegType::hold ? c.timeout_s : 0,
                          c.kind,
                          c.memo,
                          c.ref};
  return CreateTransfer{request, 0};
}

// The payee's minutes of a command, converted with the payer side's rate (post: of its part).
std::optional<int64_t> payee_minutes(const FederatedCommand& c, int64_t payer_rate_micro) {
  if (!c.minutes) return std::nullopt;
  const int64_t bounded = std::clamp<int64_t>(*c.minutes, 0, kTransferMinutesMax);
  return partner_minutes(bounded, payer_rate_micro);
}

TransferResult run_leg(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                       const std::string& community_id, LedgerCommand command,
                       const FederatedCommand& c, int64_t now_us) {
  Batch batch{community_id, {std::move(command)}, {}, {}, now_us};
  if (!c.actor_id.empty()) batch.actor_ids[c.transfer_id] = c.actor_id;
  return apply_batch(tx, outbox, batch, policies).results.front();
}

bool within_limits(pqxx::work& tx, const Link& payer_side, const Link& payee_side,
                   int64_t payer_minutes, int64_t payee_minutes_value) {
  repo::open_clearing_account(tx, payer_side.community_id, payer_side.partner_community_id);
  repo::open_clearing_account(tx, payee_side.community_id, payee_side.partner_community_id);
  const auto payer_clearing =
      repo::clearing_account(tx, payer_side.community_id, payer_side.partner_community_id);
  const auto payee_clearing =
      repo::clearing_account(tx, payee_side.community_id, payee_side.partner_community_id);
  return payer_side_within(*payer_clearing, payer_side.limits(), payer_minutes) &&
         payee_side_within(*payee_clearing, payee_side.limits(), payee_minutes_value);
}

// Both legs or neither: the second leg's refusal rolls the first back (a savepoint, since the
// caller's transaction also holds what it did before, such as the consumer's applied event).
FederatedResult write_both_legs(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                                const FederatedCommand& c, std::optional<int64_t> payee_part,
                                int64_t now_us) {
  tx.exec("SAVEPOINT federated_legs");
  const TransferResult payer = run_leg(tx, outbox, policies, c.payer_community_id,
                                       leg_command(c, true, c.minutes), c, now_us);
  if (!is_accepted(payer.outcome)) {
    tx.exec("ROLLBACK TO SAVEPOINT federated_legs");
    return refused(payer.outcome);
  }
  const TransferResult payee = run_leg(tx, outbox, policies, c.payee_community_id,
                                       leg_command(c, false, payee_part), c, now_us);
  if (!is_accepted(payee.outcome)) {
    tx.exec("ROLLBACK TO SAVEPOINT federated_legs");
    return refused(payee.outcome);
  }
  tx.exec("RELEASE SAVEPOINT federated_legs");
  FederatedResult result;
  result.outcome = payer.outcome;
  result.payer_leg = payer.transfer;
  result.payee_leg = payee.transfer;
  return result;
}

}  // namespace

// --- links ---------------------------------------------------------------------------------------

std::optional<Link> find_link(pqxx::work& tx, const std::string& link_id,
                              const std::string& community_id) {
  return repo::select_link(tx, link_id, community_id);
}

std::optional<Link> find_link_between(pqxx::work& tx, const std::string& community_id,
                                      const std::string& partner_community_id) {
  return repo::select_link_between(tx, community_id, partner_community_id);
}

std::vector<Link> link_sides(pqxx::work& tx, const std::string& link_id) {
  return repo::select_link_sides(tx, link_id);
}

bool insert_link_side(pqxx::work& tx, const Outbox& outbox, const Link& side) {
  if (!repo::insert_link(tx, side)) return false;
  repo::open_clearing_account(tx, side.community_id, side.partner_community_id);
  // Read back for the times the row took.
  emit_updated(tx, outbox, *repo::select_link(tx, side.id, side.community_id));
  return true;
}

std::optional<Link> set_link_state(pqxx::work& tx, const Outbox& outbox, const std::string& link_id,
                                   const std::string& community_id, FederationLinkState state,
                                   std::optional<ClearingLimits> limits) {
  auto side =
      repo::update_link_state(tx, link_id, community_id, std::string(to_string(state)), limits);
  if (side) emit_updated(tx, outbox, *side);
  return side;
}

std::optional<Link> set_link_suspension(pqxx::work& tx, const Outbox& outbox, const Link& side) {
  const auto before = repo::select_link(tx, side.id, side.community_id);
  if (!before) return std::nullopt;
  auto after = repo::update_link_suspension(tx, side);
  // The event tells a change of state only (what offers, requests and matching follow).
  if (after && after->state != before->state) emit_updated(tx, outbox, *after);
  return after;
}

void lock_link(pqxx::work& tx, const std::string& link_id) {
  repo::lock_link(tx, link_id);
}

void set_partner_public_key(pqxx::work& tx, const std::string& link_id,
                            const std::string& community_id, const std::string& key_bytes) {
  repo::update_partner_key(tx, link_id, community_id, key_bytes);
}

Link mirror_side(const Link& theirs, std::optional<std::string> partner_url) {
  Link ours;
  ours.id = theirs.id;
  ours.community_id = theirs.partner_community_id;
  ours.partner_community_id = theirs.community_id;
  ours.partner_url = std::move(partner_url);
  ours.state = theirs.state;
  ours.proposed_by_us = !theirs.proposed_by_us;
  ours.debit_limit_minutes = theirs.credit_limit_minutes;
  ours.credit_limit_minutes = theirs.debit_limit_minutes;
  ours.rate_micro = inverse_rate_micro(theirs.rate_micro);
  return ours;
}

// --- transfers across a link ---------------------------------------------------------------------

FederatedResult apply_federated(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                                const FederatedCommand& c, int64_t now_us) {
  repo::lock_communities(tx, {c.payer_community_id, c.payee_community_id});
  const auto payer_side = repo::select_link_between(tx, c.payer_community_id, c.payee_community_id);
  const auto payee_side = repo::select_link_between(tx, c.payee_community_id, c.payer_community_id);
  if (!payer_side || !payee_side || payer_side->remote() || payer_side->id != payee_side->id)
    return refused(kNoFederationLink);
  const auto payee_part = payee_minutes(c, payer_side->rate_micro);
  if (creates(c)) {
    const bool both_active = payer_side->state == FederationLinkState::active &&
                             payee_side->state == FederationLinkState::active;
    // A retry of a hold made already answers as the ledger does (exists), whatever the link
    // or its limits have become since: nothing moves again.
    const bool retry =
        ledger::repo::find_transfer(tx, c.payer_community_id, c.transfer_id).has_value();
    if (!retry && !both_active) return refused(kNoFederationLink);
    if (!retry &&
        !within_limits(tx, *payer_side, *payee_side, c.minutes.value_or(0), payee_part.value_or(0)))
      return refused(kFederationLimit);
  } else if (c.minutes && payee_part == 0) {
    return refused(LedgerOutcome::invalid_amount);  // a part too small to convert
  }
  return write_both_legs(tx, outbox, policies, c, payee_part, now_us);
}

FederatedResult apply_leg(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                          const Link& side, const FederatedCommand& c, int64_t now_us) {
  const bool payer = side.community_id == c.payer_community_id;
  repo::lock_communities(tx, {side.community_id});
  if (creates(c) && !ledger::repo::find_transfer(tx, side.community_id, c.transfer_id)) {
    const auto current = repo::select_link(tx, side.id, side.community_id);
    if (!current || current->state != FederationLinkState::active)
      return refused(kNoFederationLink);
    repo::open_clearing_account(tx, side.community_id, side.partner_community_id);
    const auto clearing = repo::clearing_account(tx, side.community_id, side.partner_community_id);
    const int64_t minutes = c.minutes.value_or(0);
    const bool within = payer ? payer_side_within(*clearing, current->limits(), minutes)
                              : payee_side_within(*clearing, current->limits(), minutes);
    if (!within) return refused(kFederationLimit);
  }
  const TransferResult leg =
      run_leg(tx, outbox, policies, side.community_id, leg_command(c, payer, c.minutes), c, now_us);
  if (!is_accepted(leg.outcome)) return refused(leg.outcome);
  FederatedResult result;
  result.outcome = leg.outcome;
  (payer ? result.payer_leg : result.payee_leg) = leg.transfer;
  return result;
}

void add_mirror_legs(pqxx::work& tx, std::map<std::string, std::vector<TransferId>>& by_community) {
  std::vector<std::pair<std::string, TransferId>> mirrors;
  for (const auto& [community_id, ids] : by_community) {
    for (auto& m : repo::mirror_legs_of(tx, community_id, ids)) mirrors.push_back(std::move(m));
  }
  for (auto& [partner, id] : mirrors) {
    if (partner.empty()) continue;
    auto& ids = by_community[partner];
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
  }
}

void set_remote_hooks(RemoteHooks hooks) {
  std::lock_guard lock(hooks_mutex());
  hooks_storage() = std::move(hooks);
}

const RemoteHooks& remote_hooks() {
  std::lock_guard lock(hooks_mutex());
  return hooks_storage();
}

FederatedCommand federated_command_from(const LedgerCommandEvent& c,
                                        const std::string& payer_community_id) {
  FederatedCommand f;
  f.transfer_id = c.transfer_id;
  // Lower case: the ids name clearing accounts and writer locks, which compare as text.
  f.payer_community_id = lowercase_ascii(payer_community_id);
  f.payee_community_id = lowercase_ascii(c.payee_community_id.value_or(""));
  f.minutes = c.minutes;
  f.memo = c.memo.value_or("");
  f.ref = c.ref.value_or("");
  f.timeout_s = c.timeout_s.value_or(0);
  switch (c.type) {
    case LedgerCommandType::post:
      f.type = LegType::post;
      return f;
    case LedgerCommandType::void_hold:
      f.type = LegType::void_hold;
      return f;
    case LedgerCommandType::hold:
      f.type = LegType::hold;
      break;
    case LedgerCommandType::grant:
      throw std::invalid_argument("payee_community_id");  // a grant is a community's: at home
  }
  // Only members pay across: a community's account would print credits into its partner.
  if (!c.from_member_id || !c.to_member_id || c.from_member_id->empty() || c.to_member_id->empty())
    throw std::invalid_argument("member");
  f.from_member_id = *c.from_member_id;
  f.to_member_id = *c.to_member_id;
  f.kind = c.kind.value_or(TransferKind::exchange);
  if (f.kind == TransferKind::bonus || f.kind == TransferKind::allowance)
    throw std::invalid_argument("kind");
  return f;
}

std::optional<FederatedCommand> leg_settlement(pqxx::work& tx, const LedgerCommandEvent& c,
                                               const std::string& community_id) {
  if (c.type != LedgerCommandType::post && c.type != LedgerCommandType::void_hold)
    return std::nullopt;
  const std::string ours = lowercase_ascii(community_id);
  const auto t = ledger::repo::find_transfer(tx, ours, c.transfer_id);
  if (!t) return std::nullopt;
  const bool payer_side = is_clearing_account_id(t->request.to_account_id);
  if (!payer_side && !is_clearing_account_id(t->request.from_account_id)) return std::nullopt;
  if (!payer_side && c.minutes) throw std::invalid_argument("minutes");
  FederatedCommand f;
  f.type = c.type == LedgerCommandType::post ? LegType::post : LegType::void_hold;
  f.transfer_id = c.transfer_id;
  const std::string partner =
      clearing_partner(payer_side ? t->request.to_account_id : t->request.from_account_id);
  f.payer_community_id = payer_side ? ours : partner;
  f.payee_community_id = payer_side ? partner : ours;
  f.minutes = c.minutes;
  return f;
}

FederatedResult apply_federated_command(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                                        const FederatedCommand& c, int64_t now_us) {
  const auto ours = repo::select_link_between(tx, c.payer_community_id, c.payee_community_id);
  if (!ours) return refused(kNoFederationLink);
  if (!ours->remote()) return apply_federated(tx, outbox, policies, c, now_us);
  const RemoteHooks& hooks = remote_hooks();
  if (!hooks.remote_command) return refused(kNoFederationLink);
  return hooks.remote_command(tx, outbox, policies, *ours, c, now_us);
}

// --- the audit's mirror check
// ---------------------------------------------------------------------

namespace {

std::string leg_text(const std::optional<ClearingLeg>& leg) {
  if (!leg) return "absent";
  return std::string(to_string(leg->state)) + " " + std::to_string(leg->amount_minutes) + " min (" +
         std::to_string(leg->posted_minutes) + " min versées)";
}

AuditViolation violation_of(const Link& side, const MirrorDifference& d) {
  return {AuditCheck::mirror_mismatch, side.clearing_account(),
          "transfert " + d.transfer_id + " (" + std::string(to_string(d.kind)) + ") : ici " +
              leg_text(d.ours) + ", chez le partenaire " + leg_text(d.theirs)};
}

}  // namespace

std::vector<AuditViolation> mirror_violations(pqxx::work& tx, const std::string& community_id) {
  const auto links = repo::select_links_of(tx, community_id, kLinksPerCommunityMax);
  std::vector<std::string> locked{community_id};
  for (const auto& l : links)
    if (!l.remote()) locked.push_back(l.partner_community_id);
  // No federated transfer of these communities is half-read: both legs or neither are seen.
  repo::lock_communities(tx, locked);
  std::vector<AuditViolation> violations;
  for (const auto& side : links) {
    if (side.remote()) continue;  // compared by the reconciliation between installations
    const auto partner = repo::select_link(tx, side.id, side.partner_community_id);
    if (!partner) {
      violations.push_back({AuditCheck::mirror_mismatch, side.clearing_account(),
                            "le lien " + side.id + " n'a pas de côté chez le partenaire"});
      continue;
    }
    const ClearingSide ours{side.clearing_account(), side.rate_micro,
                            repo::clearing_legs(tx, side.community_id, side.partner_community_id)};
    const ClearingSide theirs{
        partner->clearing_account(), partner->rate_micro,
        repo::clearing_legs(tx, partner->community_id, partner->partner_community_id)};
    for (const auto& d : compare_mirrors(ours, theirs)) violations.push_back(violation_of(side, d));
    const auto a = repo::clearing_account(tx, side.community_id, side.partner_community_id);
    const auto b = repo::clearing_account(tx, partner->community_id, partner->partner_community_id);
    // At 1:1 each account is exactly the other's opposite; at another rate the legs' comparison
    // above is the check (each leg rounds on its own).
    if (a && b && side.rate_micro == kRateMicroUnit && partner->rate_micro == kRateMicroUnit &&
        (a->balance_minutes != -b->balance_minutes ||
         a->pending_credit_minutes != b->pending_debit_minutes ||
         a->pending_debit_minutes != b->pending_credit_minutes)) {
      violations.push_back({AuditCheck::mirror_mismatch, side.clearing_account(),
                            "solde " + std::to_string(a->balance_minutes) +
                                " min, solde miroir chez le partenaire " +
                                std::to_string(b->balance_minutes) + " min"});
    }
  }
  return violations;
}

}  // namespace maillon::ledger::federation
