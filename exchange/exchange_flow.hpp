// The exchange workflow between two members: who may move an exchange from one state to the
// next, and which ledger commands and listing changes each move asks the service to send.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exchange/listing.hpp"
#include "exchange/policy.hpp"
#include "exchange/validation.hpp"

namespace maillon {

// Time is an input: every instant is in Unix seconds (`*_s`), as in the listing rules.

// proposed -> accepting -> accepted -> completing -> completed; declined; cancelled; expired;
// accepted or completing -> disputed -> resolved. Terminal: completed, declined, cancelled,
// expired, resolved. `completing`: both parties (or staff) confirmed and the post is sent; the
// exchange is `completed` only once the ledger answers that it posted the hold, and `disputed`
// when the ledger refuses (the hold was voided, expired or posted outside the exchange).
enum class ExchangeState {
  proposed,
  accepting,
  accepted,
  completing,
  completed,
  declined,
  cancelled,
  expired,
  disputed,
  resolved,
  // Loans (mode lend): accepted -> (both hand over; the loan cost posts, through completing) ->
  // handed_over -> late (past due_at) -> completed once both confirm the return; lost (staff).
  handed_over,
  late,
  lost
};

std::string_view to_string(ExchangeState state);
std::optional<ExchangeState> exchange_state_from_string(std::string_view text);
bool is_terminal(ExchangeState state);

// Who fires a command. A member acts for themself; site staff (the service has checked they are
// staff of the exchange's site) act either in their own right or for a party (X-On-Behalf-Of);
// the system delivers ledger results and timers.
enum class ActorKind { member, site_staff, system };

struct ExchangeActor {
  ActorKind kind = ActorKind::member;
  std::string member_id;     // who acts; empty for the system
  std::string on_behalf_of;  // the party staff acts for; empty otherwise

  static ExchangeActor member(std::string id) { return {ActorKind::member, std::move(id), {}}; }
  static ExchangeActor staff(std::string id) { return {ActorKind::site_staff, std::move(id), {}}; }
  static ExchangeActor staff_for(std::string id, std::string party) {
    return {ActorKind::site_staff, std::move(id), std::move(party)};
  }
  static ExchangeActor system() { return {ActorKind::system, {}, {}}; }
};

struct ExchangeHistoryEntry {
  int64_t at_s = 0;
  ExchangeState state_from;
  ExchangeState state_to;
  std::string actor_member_id;  // empty for the system
  std::string on_behalf_of_member_id;
  std::string note;     // e.g. "confirmation: provider", "insufficient-credits", "partial:30"
  std::string comment;  // a person's words: the dispute's reason, the resolution's note
  bool operator==(const ExchangeHistoryEntry&) const = default;
};

enum class ResolutionOutcome { post, void_hold, partial };

struct Resolution {
  ResolutionOutcome outcome = ResolutionOutcome::post;
  int64_t minutes = 0;           // only for partial: 0 < minutes <= the held minutes
  std::string absent_member_id;  // a party staff found did not show up; counts against them
  std::string note;              // staff's words on the decision, kept in the exchange
};

// Free texts people write into an exchange (characters, not bytes).
inline constexpr size_t kDisputeReasonCodePointsMax = 1000;
inline constexpr size_t kResolutionNoteCodePointsMax = 1000;
// Field errors (French) for a free text: valid UTF-8, no NUL (PostgreSQL text cannot hold one),
// at most `max_code_points` characters.
FieldErrors validate_free_text(std::string_view field, std::string_view text,
                               size_t max_code_points);

// Each accept starts a new hold attempt; retries of one attempt reuse its transfer id, and a new
// accept after a ledger refusal gets a new one, so the ledger never holds twice for one attempt.
inline constexpr int32_t kExchangeAttemptsMax = 10;
inline constexpr int64_t kExchangeMinutesMax = kPolicyMinutesBound;
// Every attempt adds two entries (accept, ledger answer); the rest of a life adds at most six
// (two confirmations, the ledger's answer to the post or a dispute, the ledger voiding a disputed
// hold, the resolution).
// A loan adds at most 8 more (hand-overs, returns, late, lost) and two per renewal.
inline constexpr int32_t kRenewalsMax = 20;  // whatever the policy says
inline constexpr size_t kExchangeHistoryMax =
    2 * kExchangeAttemptsMax + 16 + 2 * static_cast<size_t>(kRenewalsMax);

// A loan's deposit, held apart from the loan cost: its own transfer per attempt.
enum class DepositState { none, sent, held, refused, voided, posted };
std::string_view to_string(DepositState state);
std::optional<DepositState> deposit_state_from_string(std::string_view text);

struct Exchange {
  std::string id;
  std::string site_id;  // may be empty: an exchange between neighbours, no desk involved
  // With no site: the site whose staff settle what the parties cannot (a dispute, a loss), the
  // proposer's home site (else the other party's). Empty when site_id is set, or when neither
  // party has a home site.
  std::string desk_site_id;
  std::string provider_id;
  std::string receiver_id;
  std::string proposer_id;  // provider_id or receiver_id; the other one accepts or declines
  int64_t minutes = 0;      // 0 is a gift: no ledger command at all
  ExchangeState state = ExchangeState::proposed;
  int64_t proposed_at_s = 0;
  int32_t attempt = 0;  // number of accepts so far; the current hold is attempt `attempt`
  bool provider_confirmed = false;
  bool receiver_confirmed = false;
  bool staff_confirmed = false;
  // Why the exchange stepped back or stopped, as a code: the ledger's last refusal
  // ("insufficient-credits", "ledger:already-voided", ...) or "member-suspended".
  std::string reason;
  std::string dispute_reason;  // the disputing party's own words (may be empty)
  // The ledger no longer holds this exchange's credits (it refused the post, or the hold was
  // voided, expired or posted outside the exchange): a resolution can only void.
  bool hold_lost = false;
  std::optional<Resolution> resolution;
  std::vector<ExchangeHistoryEntry> history;
  // The offer's mode: a loan has dates and a deposit, a swap a listing given in return.
  ListingMode mode = ListingMode::give;
  int64_t starts_at_s = 0;  // lend: the loan's dates (0 for other modes)
  int64_t due_at_s = 0;
  int64_t deposit_minutes = 0;
  DepositState deposit = DepositState::none;
  int32_t renewals = 0;
  int64_t requested_due_at_s = 0;  // a renewal asked for, not yet accepted (0: none)
  bool provider_returned = false;
  bool receiver_returned = false;
  bool staff_returned = false;
  std::string given_offer_id;     // swap: the proposer's own listing
  std::string no_show_member_id;  // the party recorded absent (no-show)
};

struct ExchangeProposal {
  std::string id;  // chosen by the service's id generator
  std::string site_id;
  std::string provider_id;
  std::string receiver_id;
  std::string proposer_id;
  int64_t minutes = 0;
  ListingMode mode = ListingMode::give;
  int64_t starts_at_s = 0;
  int64_t due_at_s = 0;
  int64_t deposit_minutes = 0;
  std::string given_offer_id;
  std::string desk_site_id;  // only with no site_id (Exchange::desk_site_id)
};

// A loan's dates at `now_s`: both given, the due date after the start, neither in the past
// (a start earlier today is allowed: the object changes hands now).
FieldErrors validate_loan_dates(int64_t starts_at_s, int64_t due_at_s, int64_t now_s);
// A proposal's scheduled_at: not more than a day in the past (a desk recording what was done this
// morning), not more than a year ahead.
FieldErrors validate_scheduled_at(int64_t scheduled_s, int64_t now_s);
// When the exchange was last accepted (0: never).
int64_t accepted_at_s(const Exchange& ex);

// Field errors in French; an empty list means open_exchange may be called.
FieldErrors validate_proposal(const ExchangeProposal& proposal);
// Precondition: validate_proposal(proposal) is empty. `actor` is the proposer or staff for them.
Exchange open_exchange(const ExchangeProposal& proposal, const ExchangeActor& actor, int64_t now_s);

// The one ledger transfer of an attempt: hold, post and void all name it.
std::string ledger_transfer_id(std::string_view exchange_id, int32_t attempt);
std::string current_transfer_id(const Exchange& exchange);

// What the service must send after a transition, in order. Ledger commands carry the transfer
// id; listing changes apply to every listing the exchange was opened from (offer and/or request),
// except an offered service, which stays active (listing_event_of_exchange in listing.hpp).
enum class ExchangeEffectKind {
  ledger_hold,       // pending transfer receiver -> provider of `minutes`
  ledger_post,       // post `minutes` of the hold (all of it, or a partial resolution)
  ledger_void,       // void the hold (idempotent at the ledger)
  listings_reserve,  // the listings become `reserved` once the credits are held
  listings_release,  // back to `active`: only when this exchange had reserved them
  listings_close     // `closed`: the exchange took place
};

struct ExchangeEffect {
  ExchangeEffectKind kind;
  std::string transfer_id;  // ledger effects only
  std::string from_member_id;
  std::string to_member_id;
  int64_t minutes = 0;
  bool operator==(const ExchangeEffect&) const = default;
};

enum class ExchangeOutcome {
  ok,
  not_a_party,            // 404: the actor (or whom staff acts for) is not in this exchange
  not_allowed_for_role,   // 403: a party, but not the one this command belongs to
  invalid_state,          // 409: not from the current state
  already_confirmed,      // 409: this party already confirmed completion
  invalid_minutes,        // 422: partial resolution outside 1..held minutes
  proposal_expired,       // 409: accept after the proposal's deadline
  too_early,              // 409: expire before the deadline
  too_many_attempts,      // 422: kExchangeAttemptsMax holds were refused already
  unknown_transfer,       // a ledger result naming a transfer this exchange never sent
  invalid_absent_member,  // 422: a resolution names an absent member who is not a party
  party_to_exchange,      // 403: a party (or staff who is one) judging or acting across its case
  hold_gone,              // 409: a resolution would post credits the ledger no longer holds
  not_a_loan,             // 409: a loan's command on another mode
  deposit_pending,        // 409: hand-over before the ledger held the deposit
  renewal_while_late,     // 409: no renewal once late
  too_many_renewals,      // 422: the policy's max_renewals reached
  invalid_due_date,       // 422: a renewal's due date not after the current one
  no_renewal_requested,   // 409: accepting a renewal nobody asked for
  too_early_for_no_show,  // 409: a no-show before the scheduled time
  invalid_absent_member_no_show,  // 422: the no-show names someone who is not the other party
  meeting_already_past            // 409: a no-show of a meeting accepted after its time
};

std::string_view to_string(ExchangeOutcome outcome);

// On refusal the exchange is left untouched and `effects` is empty.
struct ExchangeResult {
  ExchangeOutcome outcome = ExchangeOutcome::ok;
  ExchangeState state = ExchangeState::proposed;  // the state after the command
  std::vector<ExchangeEffect> effects;
  bool ok() const { return outcome == ExchangeOutcome::ok; }
};

ExchangeResult accept_exchange(Exchange& exchange, const ExchangeActor& actor,
                               const CommunityPolicy& policy, int64_t now_s);
ExchangeResult decline_exchange(Exchange& exchange, const ExchangeActor& actor, int64_t now_s);
ExchangeResult cancel_exchange(Exchange& exchange, const ExchangeActor& actor, int64_t now_s);
ExchangeResult confirm_completion(Exchange& exchange, const ExchangeActor& actor, int64_t now_s);
// `reason`: the party's own words; the caller has validated it (validate_free_text).
ExchangeResult dispute_exchange(Exchange& exchange, const ExchangeActor& actor,
                                std::string_view reason, int64_t now_s);
ExchangeResult resolve_dispute(Exchange& exchange, const ExchangeActor& actor,
                               const Resolution& resolution, int64_t now_s);
ExchangeResult expire_proposal(Exchange& exchange, const ExchangeActor& actor,
                               const CommunityPolicy& policy, int64_t now_s);
// The system cancels an exchange not yet handed over (proposed, accepting, accepted) because a
// party left (suspended, erased): any hold is voided, `reason` (e.g. "member-suspended") kept.
ExchangeResult cancel_by_system(Exchange& exchange, std::string_view reason, int64_t now_s);
// --- Loans and swaps (mode lend / swap). Hand-over: each party (or staff of the site for both)
// confirms; a loan's cost posts once both have (through completing) and the loan is handed_over;
// a swap completes. A loan waits for its deposit to be held before the hand-over.
ExchangeResult confirm_handover(Exchange& exchange, const ExchangeActor& actor, int64_t now_s);
// Each party (or staff for both) confirms the return; completed once both have, deposit voided.
ExchangeResult confirm_return(Exchange& exchange, const ExchangeActor& actor, int64_t now_s);
// The borrower asks to keep the object until `due_at_s`; the owner accepts.
ExchangeResult request_renewal(Exchange& exchange, const ExchangeActor& actor, int64_t due_at_s,
                               int64_t max_renewals, int64_t now_s);
ExchangeResult accept_renewal(Exchange& exchange, const ExchangeActor& actor, int64_t now_s);
// The system marks a handed-over loan late once now_s >= due_at.
ExchangeResult mark_late(Exchange& exchange, int64_t now_s);
// Staff of the site (never a party) rule the object lost: the deposit posts to the owner.
ExchangeResult declare_lost(Exchange& exchange, const ExchangeActor& actor, int64_t now_s);
// The other party or staff record that `absent_member_id` did not come at `scheduled_s`
// (accepted, not handed over yet): the exchange is cancelled, holds voided, and it counts
// against the absent member.
ExchangeResult record_no_show(Exchange& exchange, const ExchangeActor& actor,
                              std::string_view absent_member_id, int64_t scheduled_s,
                              int64_t now_s);
// The deposit's transfer of the current attempt, and the ledger's answers about it.
std::string deposit_transfer_id(const Exchange& exchange);
bool is_deposit_transfer(const Exchange& exchange, std::string_view transfer_id);
// `type`: pending, rejected, posted or voided. A refused deposit cancels an exchange not yet
// handed over (the system acts, reason "deposit-refused").
ExchangeResult apply_deposit_answer(Exchange& exchange, std::string_view transfer_id,
                                    std::string_view type, int64_t now_s);

// Who cancelled a cancelled exchange: the party (also when staff acted for them), "" for the
// system.
std::string cancelled_by(const Exchange& exchange);

// Ledger results (actor: the system). They are idempotent: a duplicate changes nothing; a hold
// that arrives for an exchange no longer waiting for it is voided, so no hold outlives its
// exchange.
ExchangeResult apply_ledger_held(Exchange& exchange, std::string_view transfer_id, int64_t now_s);
// A refused hold sends the exchange back to proposed; a refused post (completing) disputes it
// with the reason "ledger:<the ledger's reason>".
ExchangeResult apply_ledger_rejected(Exchange& exchange, std::string_view transfer_id,
                                     std::string_view reason, int64_t now_s);
// The hold was posted: a completing exchange whose whole amount was posted is completed; a post
// of another amount, or one the exchange never asked for, disputes it.
ExchangeResult apply_ledger_posted(Exchange& exchange, std::string_view transfer_id,
                                   int64_t posted_minutes, int64_t now_s);
// The hold was voided or expired (`reason`: "voided" or "expired"): an exchange that still
// counted on it (accepted, completing) is disputed; the exchange's own voids change nothing.
ExchangeResult apply_ledger_voided(Exchange& exchange, std::string_view transfer_id,
                                   std::string_view reason, int64_t now_s);

int64_t proposal_expires_at_s(const Exchange& exchange, const CommunityPolicy& policy);
bool is_proposal_expired(const Exchange& exchange, const CommunityPolicy& policy, int64_t now_s);

// True invariants of any reachable exchange; tests and the service's load path assert them.
bool exchange_invariants_hold(const Exchange& exchange);
// The site whose staff see the exchange and settle it: its own, else its desk site ("" if none).
const std::string& desk_site(const Exchange& exchange);

// Reliability: completed exchanges against cancellations after accept and no-shows, smoothed
// with a Laplace prior so that a newcomer starts at 0.5 rather than at 0 or 1.
struct ReliabilityCounts {
  int64_t completed = 0;
  int64_t cancelled_after_accept = 0;
  int64_t no_show = 0;
  bool operator==(const ReliabilityCounts&) const = default;
};

double reliability(const ReliabilityCounts& counts);

struct ReliabilityDelta {
  std::string member_id;
  ReliabilityCounts counts;
  bool operator==(const ReliabilityDelta&) const = default;
};

// What a terminal exchange adds to its parties' counts (empty for a non-terminal one). The
// service applies it once, when it applies the transition that made the exchange terminal.
std::vector<ReliabilityDelta> reliability_deltas(const Exchange& exchange);

// Ratings: each party once, only once completed (or resolved with credits paid).
inline constexpr int32_t kRatingCommentCodePointsMax = 1000;

enum class RatingPermission { allowed, not_a_party, invalid_state, already_rated };

FieldErrors validate_rating(int32_t stars, std::string_view comment);
RatingPermission may_rate(const Exchange& exchange, std::string_view member_id, bool already_rated);

}  // namespace maillon
