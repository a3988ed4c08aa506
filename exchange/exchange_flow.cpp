// The exchange workflow: role checks, transitions with their effects, reliability and ratings.
#include "exchange/exchange_flow.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <utility>

#include "exchange/invariant.hpp"
#include "exchange/listing.hpp"  // utf8_code_points: one count of characters for every rule

namespace maillon {
namespace {

constexpr int64_t kProposalDayS = 24 * 3600;

constexpr std::array<std::string_view, 13> kStateNames = {
    "proposed", "accepting", "accepted", "completing",  "completed", "declined", "cancelled",
    "expired",  "disputed",  "resolved", "handed_over", "late",      "lost"};

constexpr std::array<std::string_view, 6> kDepositStateNames = {"none",    "sent",   "held",
                                                                "refused", "voided", "posted"};
// A loan may start earlier today: the object changes hands now.
constexpr int64_t kLoanStartGraceS = 24 * 3600;
constexpr int64_t kScheduleAheadMaxS = 366 * 24 * 3600;

// What the ledger answers to a post when the hold is no longer pending: nothing is left to post.
constexpr std::array<std::string_view, 4> kHoldGoneReasons = {"already-posted", "already-voided",
                                                              "expired", "not-found"};

// Who the actor is for this exchange. Staff acting for a party take that party's role; staff
// who are themselves a party act as that party; a party acting for someone else in its own
// exchange is `conflicted` and may do nothing there.
enum class Role : unsigned {
  proposer = 1,
  other_party = 2,
  staff_own = 4,
  system = 8,
  stranger = 16,
  conflicted = 32
};

constexpr unsigned operator|(Role a, Role b) {
  return static_cast<unsigned>(a) | static_cast<unsigned>(b);
}
constexpr unsigned operator|(unsigned a, Role b) {
  return a | static_cast<unsigned>(b);
}
constexpr unsigned roles(Role a) {
  return static_cast<unsigned>(a);
}

const std::string& effective_member(const ExchangeActor& actor) {
  return actor.on_behalf_of.empty() ? actor.member_id : actor.on_behalf_of;
}

bool is_party(const Exchange& ex, std::string_view member_id) {
  return !member_id.empty() && (member_id == ex.provider_id || member_id == ex.receiver_id);
}

Role role_of(const Exchange& ex, const ExchangeActor& actor) {
  if (actor.kind == ActorKind::system) return Role::system;
  if (actor.kind == ActorKind::site_staff) {
    const bool own_case = is_party(ex, actor.member_id);
    if (actor.on_behalf_of.empty() && !own_case) return Role::staff_own;
    if (own_case && !actor.on_behalf_of.empty() && actor.on_behalf_of != actor.member_id) {
      return Role::conflicted;
    }
  }
  const std::string& id = effective_member(actor);
  if (id == ex.proposer_id) return Role::proposer;
  if (id == ex.provider_id || id == ex.receiver_id) return Role::other_party;
  return Role::stranger;
}

ExchangeOutcome check_role(const Exchange& ex, const ExchangeActor& actor, unsigned allowed) {
  const Role role = role_of(ex, actor);
  if ((static_cast<unsigned>(role) & allowed) != 0) return ExchangeOutcome::ok;
  if (role == Role::stranger) return ExchangeOutcome::not_a_party;
  if (role == Role::conflicted) return ExchangeOutcome::party_to_exchange;
  return ExchangeOutcome::not_allowed_for_role;
}

ExchangeResult refuse(const Exchange& ex, ExchangeOutcome outcome) {
  MAILLON_INVARIANT(outcome != ExchangeOutcome::ok, "a refusal is never ok");
  return {outcome, ex.state, {}};
}

ExchangeResult unchanged(const Exchange& ex, std::vector<ExchangeEffect> effects = {}) {
  return {ExchangeOutcome::ok, ex.state, std::move(effects)};
}

// Moves the exchange and appends its history entry; every accepted command goes through here.
ExchangeResult move_to(Exchange& ex, const ExchangeActor& actor, ExchangeState to, int64_t now_s,
                       std::string note, std::vector<ExchangeEffect> effects,
                       std::string comment = {}) {
  ex.history.push_back({now_s, ex.state, to, actor.member_id, actor.on_behalf_of, std::move(note),
                        std::move(comment)});
  ex.state = to;
  MAILLON_INVARIANT(ex.history.size() <= kExchangeHistoryMax, "the history stays within its bound");
  MAILLON_INVARIANT(exchange_invariants_hold(ex), "the exchange holds its invariants");
  return {ExchangeOutcome::ok, ex.state, std::move(effects)};
}

// A gift (0 minutes) never touches the ledger.
void add_ledger(std::vector<ExchangeEffect>& effects, const Exchange& ex, ExchangeEffectKind kind,
                int64_t minutes) {
  if (ex.minutes == 0) return;
  effects.push_back({kind, current_transfer_id(ex), ex.receiver_id, ex.provider_id, minutes});
}

void add_listing(std::vector<ExchangeEffect>& effects, ExchangeEffectKind kind) {
  effects.push_back({kind, {}, {}, {}, 0});
}

bool is_one_of(ExchangeState state, std::initializer_list<ExchangeState> states) {
  for (ExchangeState s : states) {
    if (s == state) return true;
  }
  return false;
}

// The attempt a transfer id names, when it is one this exchange has sent a hold for.
std::optional<int32_t> sent_attempt(const Exchange& ex, std::string_view transfer_id) {
  const std::string prefix = "exchange:" + ex.id + ":";
  if (ex.minutes == 0) return std::nullopt;  // a gift never holds anything
  if (transfer_id.size() <= prefix.size() || transfer_id.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  int32_t attempt = 0;
  for (char c : transfer_id.substr(prefix.size())) {
    if (c < '0' || c > '9' || attempt > kExchangeAttemptsMax) return std::nullopt;
    attempt = attempt * 10 + (c - '0');
  }
  if (attempt < 1 || attempt > ex.attempt) return std::nullopt;
  return attempt;
}

std::string confirmation_note(const Exchange& ex, const ExchangeActor& actor) {
  if (role_of(ex, actor) == Role::staff_own) return "confirmation: staff";
  return effective_member(actor) == ex.provider_id ? "confirmation: provider"
                                                   : "confirmation: receiver";
}

// The deposit still held (or on its way): voided, and never counted on again.
void void_deposit(std::vector<ExchangeEffect>& effects, Exchange& ex) {
  if (ex.deposit != DepositState::sent && ex.deposit != DepositState::held) return;
  effects.push_back({ExchangeEffectKind::ledger_void, deposit_transfer_id(ex), ex.receiver_id,
                     ex.provider_id, ex.deposit_minutes});
  ex.deposit = DepositState::voided;
}

// Proposed, accepting or accepted: what cancelling sends back (the hold, the listings).
std::vector<ExchangeEffect> cancel_effects(Exchange& ex) {
  std::vector<ExchangeEffect> effects;
  void_deposit(effects, ex);
  // While accepting, the hold may exist already: void it now, and again if it lands later.
  if (ex.state != ExchangeState::proposed) {
    add_ledger(effects, ex, ExchangeEffectKind::ledger_void, ex.minutes);
  }
  if (ex.state == ExchangeState::accepted) {
    add_listing(effects, ExchangeEffectKind::listings_release);
  }
  return effects;
}

// The ledger let the hold go (or refused to post it) under an exchange that counted on it:
// staff must look, so the exchange waits on the desk with the ledger's reason.
ExchangeResult ledger_dispute(Exchange& ex, std::string reason, bool hold_gone, int64_t now_s) {
  ex.reason = std::move(reason);
  ex.hold_lost = ex.hold_lost || hold_gone;
  return move_to(ex, ExchangeActor::system(), ExchangeState::disputed, now_s, ex.reason, {});
}

bool is_hold_gone_reason(std::string_view reason) {
  for (std::string_view gone : kHoldGoneReasons) {
    if (gone == reason) return true;
  }
  return false;
}

std::string resolution_note(const Resolution& resolution) {
  switch (resolution.outcome) {
    case ResolutionOutcome::post:
      return "post";
    case ResolutionOutcome::void_hold:
      return "void";
    case ResolutionOutcome::partial:
      return "partial:" + std::to_string(resolution.minutes);
  }
  return {};
}

}  // namespace

std::string_view to_string(ExchangeState state) {
  return kStateNames.at(static_cast<size_t>(state));
}

std::optional<ExchangeState> exchange_state_from_string(std::string_view text) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == text) return static_cast<ExchangeState>(i);
  }
  return std::nullopt;
}

FieldErrors validate_free_text(std::string_view field, std::string_view text,
                               size_t max_code_points) {
  FieldErrors errors;
  const std::optional<size_t> length = utf8_code_points(text);
  if (!length) {
    errors.push_back({std::string(field), "n'est pas un texte UTF-8 valide"});
  } else if (text.find('\0') != std::string_view::npos) {
    errors.push_back({std::string(field), "ne doit pas contenir de caractère nul"});
  } else if (*length > max_code_points) {
    errors.push_back({std::string(field),
                      "ne doit pas dépasser " + std::to_string(max_code_points) + " caractères"});
  }
  return errors;
}

bool is_terminal(ExchangeState state) {
  return is_one_of(state,
                   {ExchangeState::completed, ExchangeState::declined, ExchangeState::cancelled,
                    ExchangeState::expired, ExchangeState::resolved, ExchangeState::lost});
}

std::string_view to_string(DepositState state) {
  return kDepositStateNames.at(static_cast<size_t>(state));
}

std::optional<DepositState> deposit_state_from_string(std::string_view text) {
  for (size_t i = 0; i < kDepositStateNames.size(); ++i) {
    if (kDepositStateNames[i] == text) return static_cast<DepositState>(i);
  }
  return std::nullopt;
}

FieldErrors validate_scheduled_at(int64_t scheduled_s, int64_t now_s) {
  FieldErrors errors;
  if (scheduled_s < now_s - kLoanStartGraceS) {
    errors.push_back({"scheduled_at", "ne peut pas être dans le passé"});
  } else if (scheduled_s > now_s + kScheduleAheadMaxS) {
    errors.push_back({"scheduled_at", "au plus un an à l'avance"});
  }
  return errors;
}

FieldErrors validate_loan_dates(int64_t starts_at_s, int64_t due_at_s, int64_t now_s) {
  FieldErrors errors;
  if (starts_at_s <= 0) errors.push_back({"starts_at", "est obligatoire pour un prêt"});
  if (due_at_s <= 0) errors.push_back({"due_at", "est obligatoire pour un prêt"});
  if (!errors.empty()) return errors;
  if (starts_at_s < now_s - kLoanStartGraceS) {
    errors.push_back({"starts_at", "ne peut pas être dans le passé"});
  }
  if (due_at_s <= starts_at_s) {
    errors.push_back({"due_at", "doit être après starts_at"});
  } else if (due_at_s <= now_s) {
    errors.push_back({"due_at", "ne peut pas être dans le passé"});
  }
  return errors;
}

std::string_view to_string(ExchangeOutcome outcome) {
  constexpr std::array<std::string_view, 22> names = {"ok",
                                                      "not-a-party",
                                                      "not-allowed-for-role",
                                                      "invalid-state",
                                                      "already-confirmed",
                                                      "invalid-minutes",
                                                      "proposal-expired",
                                                      "too-early",
                                                      "too-many-attempts",
                                                      "unknown-transfer",
                                                      "invalid-absent-member",
                                                      "party-to-exchange",
                                                      "hold-gone",
                                                      "not-a-loan",
                                                      "deposit-pending",
                                                      "renewal-while-late",
                                                      "too-many-renewals",
                                                      "invalid-due-date",
                                                      "no-renewal-requested",
                                                      "too-early-for-no-show",
                                                      "invalid-absent-member",
                                                      "meeting-already-past"};
  return names.at(static_cast<size_t>(outcome));
}

FieldErrors validate_proposal(const ExchangeProposal& p) {
  FieldErrors errors;
  if (p.id.empty()) errors.push_back({"id", "est obligatoire"});
  if (p.provider_id.empty()) errors.push_back({"provider_id", "est obligatoire"});
  if (p.receiver_id.empty()) errors.push_back({"receiver_id", "est obligatoire"});
  if (!p.provider_id.empty() && p.provider_id == p.receiver_id) {
    errors.push_back({"receiver_id", "ne peut pas être aussi celui qui fournit"});
  }
  if (p.proposer_id != p.provider_id && p.proposer_id != p.receiver_id) {
    errors.push_back({"proposer_id", "doit être l'une des deux parties"});
  }
  if (p.minutes < 0 || p.minutes > kExchangeMinutesMax) {
    errors.push_back(
        {"minutes", "doit être compris entre 0 et " + std::to_string(kExchangeMinutesMax)});
  }
  if (p.deposit_minutes < 0 || p.deposit_minutes > kExchangeMinutesMax ||
      (p.deposit_minutes > 0 && p.mode != ListingMode::lend)) {
    errors.push_back({"deposit_minutes",
                      "seulement pour un prêt, entre 0 et " + std::to_string(kExchangeMinutesMax)});
  }
  if (p.mode == ListingMode::lend && (p.starts_at_s <= 0 || p.due_at_s <= p.starts_at_s)) {
    errors.push_back({"due_at", "doit être après starts_at"});
  }
  if (p.mode != ListingMode::lend && (p.starts_at_s != 0 || p.due_at_s != 0)) {
    errors.push_back({"due_at", "seulement pour un prêt"});
  }
  if (!p.given_offer_id.empty() && p.mode != ListingMode::swap) {
    errors.push_back({"given_offer_id", "seulement pour un troc"});
  }
  return errors;
}

Exchange open_exchange(const ExchangeProposal& p, const ExchangeActor& actor, int64_t now_s) {
  MAILLON_INVARIANT(validate_proposal(p).empty(), "open_exchange takes a validated proposal");
  Exchange ex;
  ex.id = p.id;
  ex.site_id = p.site_id;
  ex.desk_site_id = p.site_id.empty() ? p.desk_site_id : std::string();
  ex.provider_id = p.provider_id;
  ex.receiver_id = p.receiver_id;
  ex.proposer_id = p.proposer_id;
  ex.minutes = p.minutes;
  ex.mode = p.mode;
  ex.starts_at_s = p.starts_at_s;
  ex.due_at_s = p.due_at_s;
  ex.deposit_minutes = p.deposit_minutes;
  ex.given_offer_id = p.given_offer_id;
  ex.proposed_at_s = now_s;
  ex.history.push_back({now_s, ExchangeState::proposed, ExchangeState::proposed, actor.member_id,
                        actor.on_behalf_of, "proposed"});
  MAILLON_INVARIANT(exchange_invariants_hold(ex), "the exchange holds its invariants");
  return ex;
}

std::string ledger_transfer_id(std::string_view exchange_id, int32_t attempt) {
  MAILLON_INVARIANT(!exchange_id.empty() && attempt >= 0,
                    "a transfer id names an exchange and an attempt from 0");
  return "exchange:" + std::string(exchange_id) + ":" + std::to_string(attempt);
}

std::string current_transfer_id(const Exchange& ex) {
  return ledger_transfer_id(ex.id, ex.attempt);
}

ExchangeResult accept_exchange(Exchange& ex, const ExchangeActor& actor,
                               const CommunityPolicy& policy, int64_t now_s) {
  if (auto o = check_role(ex, actor, roles(Role::other_party)); o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (ex.state != ExchangeState::proposed) return refuse(ex, ExchangeOutcome::invalid_state);
  if (is_proposal_expired(ex, policy, now_s)) return refuse(ex, ExchangeOutcome::proposal_expired);
  if (ex.attempt >= kExchangeAttemptsMax) return refuse(ex, ExchangeOutcome::too_many_attempts);
  ex.attempt += 1;
  ex.reason.clear();
  std::vector<ExchangeEffect> effects;
  if (ex.deposit_minutes > 0) {
    effects.push_back({ExchangeEffectKind::ledger_hold, deposit_transfer_id(ex), ex.receiver_id,
                       ex.provider_id, ex.deposit_minutes});
    ex.deposit = DepositState::sent;
  }
  if (ex.minutes == 0) {
    add_listing(effects, ExchangeEffectKind::listings_reserve);
    return move_to(ex, actor, ExchangeState::accepted, now_s, "accepted, nothing to hold",
                   std::move(effects));
  }
  add_ledger(effects, ex, ExchangeEffectKind::ledger_hold, ex.minutes);
  return move_to(ex, actor, ExchangeState::accepting, now_s, "hold " + current_transfer_id(ex),
                 std::move(effects));
}

ExchangeResult decline_exchange(Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  if (auto o = check_role(ex, actor, roles(Role::other_party)); o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (ex.state != ExchangeState::proposed) return refuse(ex, ExchangeOutcome::invalid_state);
  return move_to(ex, actor, ExchangeState::declined, now_s, "declined", {});
}

ExchangeResult cancel_exchange(Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  if (auto o = check_role(ex, actor, Role::proposer | Role::other_party);
      o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (!is_one_of(ex.state,
                 {ExchangeState::proposed, ExchangeState::accepting, ExchangeState::accepted})) {
    return refuse(ex, ExchangeOutcome::invalid_state);
  }
  return move_to(ex, actor, ExchangeState::cancelled, now_s, "cancelled", cancel_effects(ex));
}

ExchangeResult cancel_by_system(Exchange& ex, std::string_view reason, int64_t now_s) {
  MAILLON_INVARIANT(!reason.empty(), "a system cancellation gives its reason");
  if (!is_one_of(ex.state,
                 {ExchangeState::proposed, ExchangeState::accepting, ExchangeState::accepted})) {
    return refuse(ex, ExchangeOutcome::invalid_state);
  }
  std::vector<ExchangeEffect> effects = cancel_effects(ex);
  ex.reason = std::string(reason);
  return move_to(ex, ExchangeActor::system(), ExchangeState::cancelled, now_s, ex.reason,
                 std::move(effects));
}

std::string cancelled_by(const Exchange& ex) {
  MAILLON_INVARIANT(ex.state == ExchangeState::cancelled, "the exchange was just cancelled");
  const ExchangeHistoryEntry& last = ex.history.back();
  return last.on_behalf_of_member_id.empty() ? last.actor_member_id : last.on_behalf_of_member_id;
}

ExchangeResult confirm_completion(Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  if (auto o = check_role(ex, actor, Role::proposer | Role::other_party | Role::staff_own);
      o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (ex.state != ExchangeState::accepted || ex.mode == ListingMode::lend) {
    return refuse(ex, ExchangeOutcome::invalid_state);
  }
  bool& confirmed = role_of(ex, actor) == Role::staff_own       ? ex.staff_confirmed
                    : effective_member(actor) == ex.provider_id ? ex.provider_confirmed
                                                                : ex.receiver_confirmed;
  if (confirmed) return refuse(ex, ExchangeOutcome::already_confirmed);
  confirmed = true;
  const std::string note = confirmation_note(ex, actor);
  if (!ex.staff_confirmed && !(ex.provider_confirmed && ex.receiver_confirmed)) {
    return move_to(ex, actor, ExchangeState::accepted, now_s, note, {});
  }
  std::vector<ExchangeEffect> effects;
  if (ex.minutes == 0) {  // a gift: nothing for the ledger to confirm
    add_listing(effects, ExchangeEffectKind::listings_close);
    return move_to(ex, actor, ExchangeState::completed, now_s, note, std::move(effects));
  }
  // Completed only once the ledger says it posted: the hold may be gone by now.
  add_ledger(effects, ex, ExchangeEffectKind::ledger_post, ex.minutes);
  return move_to(ex, actor, ExchangeState::completing, now_s, note, std::move(effects));
}

ExchangeResult dispute_exchange(Exchange& ex, const ExchangeActor& actor, std::string_view reason,
                                int64_t now_s) {
  MAILLON_INVARIANT(validate_free_text("reason", reason, kDisputeReasonCodePointsMax).empty(),
                    "a dispute reason is validated first");
  if (auto o = check_role(ex, actor, Role::proposer | Role::other_party);
      o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (ex.state != ExchangeState::accepted) return refuse(ex, ExchangeOutcome::invalid_state);
  ex.dispute_reason = std::string(reason);
  return move_to(ex, actor, ExchangeState::disputed, now_s, "disputed", {}, ex.dispute_reason);
}

// Only staff of the site in their own right, and never one who is a party: not directly, not
// while acting for anyone (the party's counterpart or a third member).
ExchangeOutcome check_resolver(const Exchange& ex, const ExchangeActor& actor) {
  if (is_party(ex, actor.member_id) || is_party(ex, actor.on_behalf_of)) {
    return ExchangeOutcome::party_to_exchange;
  }
  if (actor.kind == ActorKind::site_staff && !actor.on_behalf_of.empty()) {
    return ExchangeOutcome::not_allowed_for_role;
  }
  return check_role(ex, actor, roles(Role::staff_own));
}

ExchangeResult resolve_dispute(Exchange& ex, const ExchangeActor& actor,
                               const Resolution& resolution, int64_t now_s) {
  MAILLON_INVARIANT(
      validate_free_text("note", resolution.note, kResolutionNoteCodePointsMax).empty(),
      "a resolution note is validated first");
  if (auto o = check_resolver(ex, actor); o != ExchangeOutcome::ok) return refuse(ex, o);
  if (ex.state != ExchangeState::disputed) return refuse(ex, ExchangeOutcome::invalid_state);
  const bool partial = resolution.outcome == ResolutionOutcome::partial;
  if (partial && (resolution.minutes <= 0 || resolution.minutes > ex.minutes)) {
    return refuse(ex, ExchangeOutcome::invalid_minutes);
  }
  if (ex.hold_lost && resolution.outcome != ResolutionOutcome::void_hold) {
    return refuse(ex, ExchangeOutcome::hold_gone);
  }
  const std::string& absent = resolution.absent_member_id;
  if (!absent.empty() && absent != ex.provider_id && absent != ex.receiver_id) {
    return refuse(ex, ExchangeOutcome::invalid_absent_member);
  }
  ex.resolution = resolution;
  if (!partial) ex.resolution->minutes = 0;
  std::vector<ExchangeEffect> effects;
  if (resolution.outcome == ResolutionOutcome::void_hold) {
    if (!ex.hold_lost) add_ledger(effects, ex, ExchangeEffectKind::ledger_void, ex.minutes);
    add_listing(effects, ExchangeEffectKind::listings_release);
  } else {
    add_ledger(effects, ex, ExchangeEffectKind::ledger_post,
               partial ? resolution.minutes : ex.minutes);
    add_listing(effects, ExchangeEffectKind::listings_close);
  }
  return move_to(ex, actor, ExchangeState::resolved, now_s, resolution_note(resolution),
                 std::move(effects), resolution.note);
}

ExchangeResult expire_proposal(Exchange& ex, const ExchangeActor& actor,
                               const CommunityPolicy& policy, int64_t now_s) {
  if (auto o = check_role(ex, actor, roles(Role::system)); o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (ex.state != ExchangeState::proposed) return refuse(ex, ExchangeOutcome::invalid_state);
  if (!is_proposal_expired(ex, policy, now_s)) return refuse(ex, ExchangeOutcome::too_early);
  return move_to(ex, actor, ExchangeState::expired, now_s, "expired", {});
}

ExchangeResult apply_ledger_held(Exchange& ex, std::string_view transfer_id, int64_t now_s) {
  if (!sent_attempt(ex, transfer_id)) return refuse(ex, ExchangeOutcome::unknown_transfer);
  const bool current = transfer_id == current_transfer_id(ex);
  if (current && ex.state == ExchangeState::accepting) {
    std::vector<ExchangeEffect> effects;
    add_listing(effects, ExchangeEffectKind::listings_reserve);
    return move_to(ex, ExchangeActor::system(), ExchangeState::accepted, now_s, "held",
                   std::move(effects));
  }
  if (current && is_one_of(ex.state, {ExchangeState::accepted, ExchangeState::completing,
                                      ExchangeState::completed, ExchangeState::disputed,
                                      ExchangeState::resolved})) {
    return unchanged(ex);  // a duplicate delivery
  }
  // Nobody waits for this hold any more (cancelled while accepting, or a stale attempt):
  // give the credits back so that no hold outlives its exchange.
  return unchanged(ex, {{ExchangeEffectKind::ledger_void, std::string(transfer_id), ex.receiver_id,
                         ex.provider_id, ex.minutes}});
}

ExchangeResult apply_ledger_rejected(Exchange& ex, std::string_view transfer_id,
                                     std::string_view reason, int64_t now_s) {
  if (!sent_attempt(ex, transfer_id)) return refuse(ex, ExchangeOutcome::unknown_transfer);
  if (transfer_id != current_transfer_id(ex)) return unchanged(ex);  // a stale attempt
  if (ex.state == ExchangeState::completing) {
    return ledger_dispute(ex, "ledger:" + std::string(reason), is_hold_gone_reason(reason), now_s);
  }
  if (ex.state != ExchangeState::accepting) {
    // A duplicate, an answer nobody waits for (nothing was held), or the refusal of a void or
    // of a resolution's post: the transfer's state is recorded by the service.
    return unchanged(ex);
  }
  ex.reason = std::string(reason);
  std::vector<ExchangeEffect> effects;
  void_deposit(effects, ex);
  return move_to(ex, ExchangeActor::system(), ExchangeState::proposed, now_s, ex.reason,
                 std::move(effects));
}

ExchangeResult apply_ledger_posted(Exchange& ex, std::string_view transfer_id,
                                   int64_t posted_minutes, int64_t now_s) {
  if (!sent_attempt(ex, transfer_id)) return refuse(ex, ExchangeOutcome::unknown_transfer);
  if (transfer_id != current_transfer_id(ex)) return unchanged(ex);  // a stale attempt
  if (ex.state == ExchangeState::completing && posted_minutes == ex.minutes &&
      ex.mode == ListingMode::lend) {
    return move_to(ex, ExchangeActor::system(), ExchangeState::handed_over, now_s, "posted", {});
  }
  if (ex.state == ExchangeState::completing && posted_minutes == ex.minutes) {
    std::vector<ExchangeEffect> effects;
    add_listing(effects, ExchangeEffectKind::listings_close);
    return move_to(ex, ExchangeActor::system(), ExchangeState::completed, now_s, "posted",
                   std::move(effects));
  }
  if (ex.state == ExchangeState::completing) {
    return ledger_dispute(ex, "ledger:partially-posted", true, now_s);
  }
  // Posted before anyone asked: not by this exchange, whatever the caller hoped to gain.
  if (ex.state == ExchangeState::accepted ||
      (ex.state == ExchangeState::disputed && !ex.hold_lost)) {
    if (ex.mode == ListingMode::lend) return unchanged(ex);  // a loan has no dispute
    return ledger_dispute(ex, "ledger:posted-outside-exchange", true, now_s);
  }
  return unchanged(ex);  // a duplicate, or the post of a resolution
}

ExchangeResult apply_ledger_voided(Exchange& ex, std::string_view transfer_id,
                                   std::string_view reason, int64_t now_s) {
  if (!sent_attempt(ex, transfer_id)) return refuse(ex, ExchangeOutcome::unknown_transfer);
  if (transfer_id != current_transfer_id(ex)) return unchanged(ex);  // a stale attempt
  const bool counted_on_it =
      is_one_of(ex.state, {ExchangeState::accepted, ExchangeState::completing}) ||
      (ex.state == ExchangeState::disputed && !ex.hold_lost);
  if (!counted_on_it) return unchanged(ex);  // the exchange's own void, or a duplicate
  return ledger_dispute(ex, "ledger:" + std::string(reason.empty() ? "voided" : reason), true,
                        now_s);
}

int64_t proposal_expires_at_s(const Exchange& ex, const CommunityPolicy& policy) {
  return ex.proposed_at_s + policy.proposal_days * kProposalDayS;
}

bool is_proposal_expired(const Exchange& ex, const CommunityPolicy& policy, int64_t now_s) {
  return now_s >= proposal_expires_at_s(ex, policy);
}

const std::string& desk_site(const Exchange& ex) {
  return ex.site_id.empty() ? ex.desk_site_id : ex.site_id;
}

bool exchange_invariants_hold(const Exchange& ex) {
  using S = ExchangeState;
  const bool parties_ok = !ex.provider_id.empty() && ex.provider_id != ex.receiver_id &&
                          (ex.proposer_id == ex.provider_id || ex.proposer_id == ex.receiver_id);
  const bool amounts_ok = ex.minutes >= 0 && ex.minutes <= kExchangeMinutesMax && ex.attempt >= 0 &&
                          ex.attempt <= kExchangeAttemptsMax;
  const bool held_once =
      ex.attempt >= 1 ||
      !is_one_of(ex.state, {S::accepting, S::accepted, S::completing, S::completed, S::disputed,
                            S::resolved, S::handed_over, S::late, S::lost});
  const bool any_confirmed = ex.provider_confirmed || ex.receiver_confirmed || ex.staff_confirmed;
  const bool confirmations_ok =
      !any_confirmed ||
      is_one_of(ex.state, {S::accepted, S::completing, S::completed, S::cancelled, S::disputed,
                           S::resolved, S::handed_over, S::late, S::lost});
  const bool completed_ok = !is_one_of(ex.state, {S::completing, S::completed}) ||
                            ex.staff_confirmed || (ex.provider_confirmed && ex.receiver_confirmed);
  // Only a held exchange loses its hold, and then it waits for staff or has been resolved.
  const bool hold_lost_ok =
      !ex.hold_lost || (ex.minutes > 0 && is_one_of(ex.state, {S::disputed, S::resolved}));
  const bool dispute_reason_ok =
      ex.dispute_reason.empty() || is_one_of(ex.state, {S::disputed, S::resolved});
  const bool resolution_ok =
      (ex.state == S::resolved) == ex.resolution.has_value() &&
      (!ex.resolution || ex.resolution->outcome != ResolutionOutcome::partial ||
       (ex.resolution->minutes > 0 && ex.resolution->minutes <= ex.minutes));
  const bool history_ok = !ex.history.empty() && ex.history.size() <= kExchangeHistoryMax &&
                          ex.history.back().state_to == ex.state;
  const bool desk_ok = ex.site_id.empty() || ex.desk_site_id.empty();
  return parties_ok && amounts_ok && held_once && confirmations_ok && completed_ok &&
         hold_lost_ok && dispute_reason_ok && resolution_ok && history_ok && desk_ok;
}

double reliability(const ReliabilityCounts& counts) {
  MAILLON_INVARIANT(
      counts.completed >= 0 && counts.cancelled_after_accept >= 0 && counts.no_show >= 0,
      "counts are never negative");
  const double failures = static_cast<double>(counts.cancelled_after_accept + counts.no_show);
  const double completed = static_cast<double>(counts.completed);
  return (completed + 1.0) / (completed + failures + 2.0);
}

std::vector<ReliabilityDelta> reliability_deltas(const Exchange& ex) {
  std::vector<ReliabilityDelta> deltas;
  if (ex.state == ExchangeState::completed) {
    deltas.push_back({ex.provider_id, {1, 0, 0}});
    deltas.push_back({ex.receiver_id, {1, 0, 0}});
  } else if (ex.state == ExchangeState::resolved) {
    const bool paid = ex.resolution->outcome != ResolutionOutcome::void_hold;
    for (const std::string& party : {ex.provider_id, ex.receiver_id}) {
      if (party == ex.resolution->absent_member_id) {
        deltas.push_back({party, {0, 0, 1}});
      } else if (paid) {
        deltas.push_back({party, {1, 0, 0}});
      }
    }
  } else if (ex.state == ExchangeState::cancelled) {
    if (!ex.no_show_member_id.empty()) {  // the absent party, not who recorded it
      deltas.push_back({ex.no_show_member_id, {0, 0, 1}});
      return deltas;
    }
    const ExchangeHistoryEntry& last = ex.history.back();
    const std::string who = cancelled_by(ex);
    // The system cancels for a party who left: nobody chose to abandon the exchange.
    const bool after_accept =
        last.state_from == ExchangeState::accepting || last.state_from == ExchangeState::accepted;
    if (after_accept && !who.empty()) deltas.push_back({who, {0, 1, 0}});
  }
  return deltas;
}

FieldErrors validate_rating(int32_t stars, std::string_view comment) {
  FieldErrors errors;
  if (stars < 1 || stars > 5) errors.push_back({"stars", "doit être compris entre 1 et 5"});
  for (FieldError& error :
       validate_free_text("comment", comment, static_cast<size_t>(kRatingCommentCodePointsMax))) {
    errors.push_back(std::move(error));
  }
  return errors;
}

RatingPermission may_rate(const Exchange& ex, std::string_view member_id, bool already_rated) {
  if (member_id != ex.provider_id && member_id != ex.receiver_id) {
    return RatingPermission::not_a_party;
  }
  const bool paid_resolution =
      ex.state == ExchangeState::resolved && ex.resolution->outcome != ResolutionOutcome::void_hold;
  if (ex.state != ExchangeState::completed && !paid_resolution) {
    return RatingPermission::invalid_state;
  }
  if (already_rated) return RatingPermission::already_rated;
  return RatingPermission::allowed;
}

// --- Loans and swaps ------------------------------------------------------------------------

namespace {

// Who confirms a step (hand-over or return): staff of the site in their own right confirm for
// both; otherwise the party acting (or whom staff act for).
bool& step_flag(Exchange& ex, const ExchangeActor& actor, bool return_step) {
  const bool staff = role_of(ex, actor) == Role::staff_own;
  const bool provider = effective_member(actor) == ex.provider_id;
  if (return_step) {
    return staff ? ex.staff_returned : provider ? ex.provider_returned : ex.receiver_returned;
  }
  return staff ? ex.staff_confirmed : provider ? ex.provider_confirmed : ex.receiver_confirmed;
}

std::string step_note(const Exchange& ex, const ExchangeActor& actor, std::string_view step) {
  if (role_of(ex, actor) == Role::staff_own) return std::string(step) + ": staff";
  return std::string(step) +
         (effective_member(actor) == ex.provider_id ? ": provider" : ": receiver");
}

constexpr unsigned kParties = Role::proposer | Role::other_party;
constexpr unsigned kPartiesOrStaff = kParties | Role::staff_own;

}  // namespace

std::string deposit_transfer_id(const Exchange& ex) {
  return "exchange:" + ex.id + ":deposit-" + std::to_string(ex.attempt);
}

bool is_deposit_transfer(const Exchange& ex, std::string_view transfer_id) {
  const std::string prefix = "exchange:" + ex.id + ":deposit-";
  if (transfer_id.size() <= prefix.size() || transfer_id.substr(0, prefix.size()) != prefix) {
    return false;
  }
  int32_t attempt = 0;
  for (char c : transfer_id.substr(prefix.size())) {
    if (c < '0' || c > '9' || attempt > kExchangeAttemptsMax) return false;
    attempt = attempt * 10 + (c - '0');
  }
  return attempt >= 1 && attempt <= ex.attempt;
}

ExchangeResult confirm_handover(Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  if (ex.mode == ListingMode::swap) return confirm_completion(ex, actor, now_s);
  if (ex.mode != ListingMode::lend) return refuse(ex, ExchangeOutcome::not_a_loan);
  if (auto o = check_role(ex, actor, kPartiesOrStaff); o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (ex.state != ExchangeState::accepted) return refuse(ex, ExchangeOutcome::invalid_state);
  if (ex.deposit_minutes > 0 && ex.deposit != DepositState::held) {
    return refuse(ex, ExchangeOutcome::deposit_pending);
  }
  bool& confirmed = step_flag(ex, actor, false);
  if (confirmed) return refuse(ex, ExchangeOutcome::already_confirmed);
  confirmed = true;
  const std::string note = step_note(ex, actor, "handover");
  if (!ex.staff_confirmed && !(ex.provider_confirmed && ex.receiver_confirmed)) {
    return move_to(ex, actor, ExchangeState::accepted, now_s, note, {});
  }
  if (ex.minutes == 0) return move_to(ex, actor, ExchangeState::handed_over, now_s, note, {});
  std::vector<ExchangeEffect> effects;
  add_ledger(effects, ex, ExchangeEffectKind::ledger_post, ex.minutes);  // the loan cost
  return move_to(ex, actor, ExchangeState::completing, now_s, note, std::move(effects));
}

ExchangeResult confirm_return(Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  if (ex.mode != ListingMode::lend) return refuse(ex, ExchangeOutcome::not_a_loan);
  if (auto o = check_role(ex, actor, kPartiesOrStaff); o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (!is_one_of(ex.state, {ExchangeState::handed_over, ExchangeState::late})) {
    return refuse(ex, ExchangeOutcome::invalid_state);
  }
  bool& returned = step_flag(ex, actor, true);
  if (returned) return refuse(ex, ExchangeOutcome::already_confirmed);
  returned = true;
  const std::string note = step_note(ex, actor, "return");
  if (!ex.staff_returned && !(ex.provider_returned && ex.receiver_returned)) {
    return move_to(ex, actor, ex.state, now_s, note, {});
  }
  ex.requested_due_at_s = 0;
  std::vector<ExchangeEffect> effects;
  void_deposit(effects, ex);
  return move_to(ex, actor, ExchangeState::completed, now_s, note, std::move(effects));
}

ExchangeResult request_renewal(Exchange& ex, const ExchangeActor& actor, int64_t due_at_s,
                               int64_t max_renewals, int64_t now_s) {
  if (ex.mode != ListingMode::lend) return refuse(ex, ExchangeOutcome::not_a_loan);
  if (auto o = check_role(ex, actor, kParties); o != ExchangeOutcome::ok) return refuse(ex, o);
  if (effective_member(actor) != ex.receiver_id) {
    return refuse(ex, ExchangeOutcome::not_allowed_for_role);
  }
  if (ex.state == ExchangeState::late) return refuse(ex, ExchangeOutcome::renewal_while_late);
  if (ex.state != ExchangeState::handed_over) return refuse(ex, ExchangeOutcome::invalid_state);
  if (ex.renewals >= std::min<int64_t>(max_renewals, kRenewalsMax)) {
    return refuse(ex, ExchangeOutcome::too_many_renewals);
  }
  if (due_at_s <= ex.due_at_s || due_at_s <= now_s) {
    return refuse(ex, ExchangeOutcome::invalid_due_date);
  }
  ex.requested_due_at_s = due_at_s;
  return move_to(ex, actor, ex.state, now_s, "renewal requested", {});
}

ExchangeResult accept_renewal(Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  if (ex.mode != ListingMode::lend) return refuse(ex, ExchangeOutcome::not_a_loan);
  if (auto o = check_role(ex, actor, kParties); o != ExchangeOutcome::ok) return refuse(ex, o);
  if (effective_member(actor) != ex.provider_id) {
    return refuse(ex, ExchangeOutcome::not_allowed_for_role);
  }
  if (ex.state == ExchangeState::late) return refuse(ex, ExchangeOutcome::renewal_while_late);
  if (ex.state != ExchangeState::handed_over) return refuse(ex, ExchangeOutcome::invalid_state);
  if (ex.requested_due_at_s == 0) return refuse(ex, ExchangeOutcome::no_renewal_requested);
  ex.due_at_s = ex.requested_due_at_s;
  ex.requested_due_at_s = 0;
  ex.renewals += 1;
  return move_to(ex, actor, ex.state, now_s, "renewed", {});
}

ExchangeResult mark_late(Exchange& ex, int64_t now_s) {
  if (ex.mode != ListingMode::lend) return refuse(ex, ExchangeOutcome::not_a_loan);
  if (ex.state != ExchangeState::handed_over) return refuse(ex, ExchangeOutcome::invalid_state);
  if (now_s < ex.due_at_s) return refuse(ex, ExchangeOutcome::too_early);
  ex.requested_due_at_s = 0;  // a renewal nobody granted in time lapses
  return move_to(ex, ExchangeActor::system(), ExchangeState::late, now_s, "late", {});
}

ExchangeResult declare_lost(Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  if (ex.mode != ListingMode::lend) return refuse(ex, ExchangeOutcome::not_a_loan);
  if (auto o = check_resolver(ex, actor); o != ExchangeOutcome::ok) return refuse(ex, o);
  if (!is_one_of(ex.state, {ExchangeState::handed_over, ExchangeState::late})) {
    return refuse(ex, ExchangeOutcome::invalid_state);
  }
  std::vector<ExchangeEffect> effects;
  if (ex.deposit == DepositState::held) {
    effects.push_back({ExchangeEffectKind::ledger_post, deposit_transfer_id(ex), ex.receiver_id,
                       ex.provider_id, ex.deposit_minutes});
    ex.deposit = DepositState::posted;
  }
  ex.requested_due_at_s = 0;
  return move_to(ex, actor, ExchangeState::lost, now_s, "lost", std::move(effects));
}

int64_t accepted_at_s(const Exchange& ex) {
  // The last acceptance: one refused for want of credits went back to proposed, then again.
  const auto last =
      std::find_if(ex.history.rbegin(), ex.history.rend(), [](const ExchangeHistoryEntry& step) {
        return step.state_from == ExchangeState::proposed &&
               (step.state_to == ExchangeState::accepting ||
                step.state_to == ExchangeState::accepted);
      });
  return last == ex.history.rend() ? 0 : last->at_s;
}

ExchangeResult record_no_show(Exchange& ex, const ExchangeActor& actor,
                              std::string_view absent_member_id, int64_t scheduled_s,
                              int64_t now_s) {
  if (auto o = check_role(ex, actor, kPartiesOrStaff); o != ExchangeOutcome::ok) {
    return refuse(ex, o);
  }
  if (!is_party(ex, absent_member_id)) {
    return refuse(ex, ExchangeOutcome::invalid_absent_member_no_show);
  }
  // A party records the other one only: nobody declares themself absent to cancel for free.
  if (role_of(ex, actor) != Role::staff_own && absent_member_id == effective_member(actor)) {
    return refuse(ex, ExchangeOutcome::invalid_absent_member_no_show);
  }
  if (ex.state != ExchangeState::accepted) return refuse(ex, ExchangeOutcome::invalid_state);
  if (scheduled_s <= 0 || now_s < scheduled_s) {
    return refuse(ex, ExchangeOutcome::too_early_for_no_show);
  }
  // Only a meeting agreed before its time can be missed: a proposal back-dated, or accepted once
  // its time had passed, would let the proposer blame the other party the moment they accept.
  if (accepted_at_s(ex) > scheduled_s) return refuse(ex, ExchangeOutcome::meeting_already_past);
  std::vector<ExchangeEffect> effects = cancel_effects(ex);
  ex.no_show_member_id = std::string(absent_member_id);
  ex.reason = "no-show";
  return move_to(ex, actor, ExchangeState::cancelled, now_s, "no-show", std::move(effects));
}

ExchangeResult apply_deposit_answer(Exchange& ex, std::string_view transfer_id,
                                    std::string_view type, int64_t now_s) {
  if (!is_deposit_transfer(ex, transfer_id)) return refuse(ex, ExchangeOutcome::unknown_transfer);
  const bool current = transfer_id == deposit_transfer_id(ex);
  const bool waiting = current && ex.deposit == DepositState::sent &&
                       is_one_of(ex.state, {ExchangeState::accepting, ExchangeState::accepted});
  if (type == "pending") {
    if (waiting) {
      ex.deposit = DepositState::held;
      return unchanged(ex);
    }
    if (current && ex.deposit != DepositState::voided && ex.deposit != DepositState::refused) {
      return unchanged(ex);  // a duplicate
    }
    // Nobody waits for this deposit any more: give the credits back.
    return unchanged(ex, {{ExchangeEffectKind::ledger_void, std::string(transfer_id),
                           ex.receiver_id, ex.provider_id, ex.deposit_minutes}});
  }
  if (type == "rejected" && waiting) {
    ex.deposit = DepositState::refused;
    return cancel_by_system(ex, "deposit-refused", now_s);
  }
  return unchanged(ex);  // the answer to the exchange's own void or post, or a duplicate
}

}  // namespace maillon
