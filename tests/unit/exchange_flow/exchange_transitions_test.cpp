// Every exchange transition, allowed and refused: who may fire it, from which state, and what
// the service is asked to send to the ledger and the listings.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "exchange_builders.hpp"

namespace maillon::test {
namespace {

using Kind = ExchangeEffectKind;
using Outcome = ExchangeOutcome;
using State = ExchangeState;

const CommunityPolicy kPolicy;

std::vector<Kind> kinds(const ExchangeResult& result) {
  std::vector<Kind> out;
  for (const ExchangeEffect& effect : result.effects) out.push_back(effect.kind);
  return out;
}

enum class Command { accept, decline, cancel, complete, dispute, resolve, expire };

ExchangeResult run(Command command, Exchange& ex, const ExchangeActor& actor, int64_t now_s) {
  switch (command) {
    case Command::accept:
      return accept_exchange(ex, actor, kPolicy, now_s);
    case Command::decline:
      return decline_exchange(ex, actor, now_s);
    case Command::cancel:
      return cancel_exchange(ex, actor, now_s);
    case Command::complete:
      return confirm_completion(ex, actor, now_s);
    case Command::dispute:
      return dispute_exchange(ex, actor, "", now_s);
    case Command::resolve:
      return resolve_dispute(ex, actor, {}, now_s);
    case Command::expire:
      return expire_proposal(ex, actor, kPolicy, now_s);
  }
  return {};
}

// Late enough for expire, early enough for nothing else to care.
int64_t time_for(Command command) {
  return command == Command::expire ? kT0 + kPolicy.proposal_days * kDay : kT0 + 5 * kHour;
}

State state_for(Command command) {
  switch (command) {
    case Command::complete:
    case Command::dispute:
      return State::accepted;
    case Command::resolve:
      return State::disputed;
    default:
      return State::proposed;
  }
}

struct RoleCase {
  Command command;
  ExchangeActor actor;
  Outcome expected;
};

TEST(ExchangeRoles, each_command_accepts_only_its_actors) {
  const ExchangeActor system = ExchangeActor::system();
  const std::vector<RoleCase> cases = {
      {Command::accept, provider(), Outcome::ok},
      {Command::accept, staff_for_provider(), Outcome::ok},
      {Command::accept, receiver(), Outcome::not_allowed_for_role},
      {Command::accept, staff_for_receiver(), Outcome::not_allowed_for_role},
      {Command::accept, staff(), Outcome::not_allowed_for_role},
      {Command::accept, system, Outcome::not_allowed_for_role},
      {Command::accept, stranger(), Outcome::not_a_party},
      {Command::accept, staff_for_stranger(), Outcome::not_a_party},
      {Command::decline, provider(), Outcome::ok},
      {Command::decline, receiver(), Outcome::not_allowed_for_role},
      {Command::decline, staff(), Outcome::not_allowed_for_role},
      {Command::decline, stranger(), Outcome::not_a_party},
      {Command::cancel, provider(), Outcome::ok},
      {Command::cancel, receiver(), Outcome::ok},
      {Command::cancel, staff_for_receiver(), Outcome::ok},
      {Command::cancel, staff(), Outcome::not_allowed_for_role},
      {Command::cancel, system, Outcome::not_allowed_for_role},
      {Command::cancel, stranger(), Outcome::not_a_party},
      {Command::complete, provider(), Outcome::ok},
      {Command::complete, receiver(), Outcome::ok},
      {Command::complete, staff(), Outcome::ok},
      {Command::complete, staff_for_provider(), Outcome::ok},
      {Command::complete, system, Outcome::not_allowed_for_role},
      {Command::complete, stranger(), Outcome::not_a_party},
      {Command::dispute, provider(), Outcome::ok},
      {Command::dispute, receiver(), Outcome::ok},
      {Command::dispute, staff_for_receiver(), Outcome::ok},
      {Command::dispute, staff(), Outcome::not_allowed_for_role},
      {Command::dispute, stranger(), Outcome::not_a_party},
      {Command::resolve, staff(), Outcome::ok},
      {Command::resolve, staff_for_provider(), Outcome::party_to_exchange},
      {Command::resolve, provider(), Outcome::party_to_exchange},
      {Command::resolve, staff_for_stranger(), Outcome::not_allowed_for_role},
      {Command::resolve, stranger(), Outcome::not_a_party},
      {Command::resolve, system, Outcome::not_allowed_for_role},
      {Command::expire, system, Outcome::ok},
      {Command::expire, staff(), Outcome::not_allowed_for_role},
      {Command::expire, receiver(), Outcome::not_allowed_for_role},
      {Command::expire, stranger(), Outcome::not_a_party},
  };
  for (const RoleCase& c : cases) {
    Exchange ex = in_state(state_for(c.command));
    const ExchangeResult result = run(c.command, ex, c.actor, time_for(c.command));
    EXPECT_EQ(result.outcome, c.expected) << "command " << static_cast<int>(c.command) << " by "
                                          << c.actor.member_id << " for " << c.actor.on_behalf_of;
  }
}

ExchangeActor allowed_actor(Command command) {
  switch (command) {
    case Command::accept:
    case Command::decline:
      return provider();
    case Command::cancel:
    case Command::dispute:
      return receiver();
    case Command::complete:
    case Command::resolve:
      return staff();
    case Command::expire:
      return ExchangeActor::system();
  }
  return {};
}

TEST(ExchangeStates, each_command_runs_only_from_its_states) {
  const std::vector<State> all = {
      State::proposed, State::accepting, State::accepted, State::completing, State::completed,
      State::declined, State::cancelled, State::expired,  State::disputed,   State::resolved};
  const std::vector<std::pair<Command, std::vector<State>>> allowed = {
      {Command::accept, {State::proposed}},
      {Command::decline, {State::proposed}},
      {Command::cancel, {State::proposed, State::accepting, State::accepted}},
      {Command::complete, {State::accepted}},
      {Command::dispute, {State::accepted}},
      {Command::resolve, {State::disputed}},
      {Command::expire, {State::proposed}},
  };
  for (const auto& [command, from] : allowed) {
    for (State state : all) {
      Exchange ex = in_state(state);
      ASSERT_EQ(ex.state, state);
      const ExchangeResult result = run(command, ex, allowed_actor(command), time_for(command));
      const bool expected_ok = std::find(from.begin(), from.end(), state) != from.end();
      EXPECT_EQ(result.outcome, expected_ok ? Outcome::ok : Outcome::invalid_state)
          << "command " << static_cast<int>(command) << " from " << to_string(state);
      if (!expected_ok) {
        EXPECT_EQ(result.state, state);
      }
    }
  }
}

TEST(ExchangeStates, a_refusal_leaves_the_exchange_untouched) {
  Exchange ex = accepted();
  const Exchange before = ex;
  const ExchangeResult result = decline_exchange(ex, provider(), kT0 + 5 * kHour);
  EXPECT_EQ(result.outcome, Outcome::invalid_state);
  EXPECT_TRUE(result.effects.empty());
  EXPECT_EQ(ex.history, before.history);
  EXPECT_EQ(ex.state, before.state);
}

TEST(ExchangeAccept, accept_asks_the_ledger_to_hold_from_receiver_to_provider) {
  Exchange ex = proposed(90);
  const ExchangeResult result = accept_exchange(ex, provider(), kPolicy, kT0 + kHour);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.state, State::accepting);
  ASSERT_EQ(result.effects.size(), 1u);
  EXPECT_EQ(result.effects[0],
            (ExchangeEffect{Kind::ledger_hold, "exchange:ex-1:1", "receiver-1", "provider-1", 90}));
}

TEST(ExchangeAccept, accept_after_the_deadline_is_refused_as_expired) {
  Exchange ex = proposed();
  const int64_t deadline_s = proposal_expires_at_s(ex, kPolicy);
  EXPECT_EQ(deadline_s, kT0 + 7 * kDay);
  EXPECT_EQ(accept_exchange(ex, provider(), kPolicy, deadline_s).outcome,
            Outcome::proposal_expired);
  EXPECT_TRUE(accept_exchange(ex, provider(), kPolicy, deadline_s - 1).ok());
}

TEST(ExchangeAccept, a_gift_is_accepted_at_once_without_the_ledger) {
  Exchange ex = proposed(0);
  const ExchangeResult accepted_result = accept_exchange(ex, provider(), kPolicy, kT0 + kHour);
  EXPECT_EQ(accepted_result.state, State::accepted);
  EXPECT_EQ(kinds(accepted_result), std::vector<Kind>{Kind::listings_reserve});
  const ExchangeResult done = confirm_completion(ex, staff(), kT0 + 2 * kHour);
  EXPECT_EQ(done.state, State::completed);  // nothing for the ledger to confirm
  EXPECT_EQ(kinds(done), std::vector<Kind>{Kind::listings_close});
}

TEST(ExchangeLedger, the_hold_makes_the_exchange_accepted_and_reserves_its_listings) {
  Exchange ex = accepting();
  const ExchangeResult result = apply_ledger_held(ex, "exchange:ex-1:1", kT0 + 2 * kHour);
  EXPECT_EQ(result.state, State::accepted);
  EXPECT_EQ(kinds(result), std::vector<Kind>{Kind::listings_reserve});
  EXPECT_EQ(ex.history.back().note, "held");
}

TEST(ExchangeLedger, a_duplicate_hold_changes_nothing) {
  Exchange ex = accepted();
  const size_t entries = ex.history.size();
  const ExchangeResult result = apply_ledger_held(ex, "exchange:ex-1:1", kT0 + 3 * kHour);
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(result.effects.empty());
  EXPECT_EQ(ex.history.size(), entries);
}

TEST(ExchangeLedger, a_refusal_sends_the_exchange_back_to_proposed_with_the_reason) {
  Exchange ex = accepting();
  const ExchangeResult result =
      apply_ledger_rejected(ex, "exchange:ex-1:1", "insufficient-credits", kT0 + 2 * kHour);
  EXPECT_EQ(result.state, State::proposed);
  EXPECT_TRUE(result.effects.empty());
  EXPECT_EQ(ex.reason, "insufficient-credits");
  EXPECT_EQ(ex.history.back().note, "insufficient-credits");
}

TEST(ExchangeLedger, a_new_accept_after_a_refusal_holds_under_a_new_transfer_id) {
  Exchange ex = accepting();
  apply_ledger_rejected(ex, "exchange:ex-1:1", "insufficient-credits", kT0 + 2 * kHour);
  const ExchangeResult again = accept_exchange(ex, provider(), kPolicy, kT0 + 3 * kHour);
  ASSERT_EQ(again.effects.size(), 1u);
  EXPECT_EQ(again.effects[0].transfer_id, "exchange:ex-1:2");
  EXPECT_TRUE(ex.reason.empty());
  // The late duplicate of the first refusal no longer moves anything.
  EXPECT_EQ(apply_ledger_rejected(ex, "exchange:ex-1:1", "x", kT0 + 4 * kHour).state,
            State::accepting);
}

TEST(ExchangeLedger, attempts_are_bounded) {
  Exchange ex = proposed();
  for (int32_t i = 0; i < kExchangeAttemptsMax; ++i) {
    ASSERT_TRUE(accept_exchange(ex, provider(), kPolicy, kT0 + i).ok());
    apply_ledger_rejected(ex, current_transfer_id(ex), "insufficient-credits", kT0 + i);
  }
  EXPECT_EQ(accept_exchange(ex, provider(), kPolicy, kT0 + kDay).outcome,
            Outcome::too_many_attempts);
  EXPECT_TRUE(exchange_invariants_hold(ex));
}

TEST(ExchangeLedger, a_hold_landing_after_cancellation_is_voided) {
  Exchange ex = accepting();
  cancel_exchange(ex, receiver(), kT0 + 2 * kHour);
  const ExchangeResult late = apply_ledger_held(ex, "exchange:ex-1:1", kT0 + 3 * kHour);
  EXPECT_EQ(late.state, State::cancelled);
  ASSERT_EQ(late.effects.size(), 1u);
  EXPECT_EQ(late.effects[0].kind, Kind::ledger_void);
  EXPECT_EQ(late.effects[0].transfer_id, "exchange:ex-1:1");
}

TEST(ExchangeLedger, results_for_transfers_never_sent_are_refused) {
  Exchange ex = accepting();
  for (const char* id :
       {"exchange:ex-2:1", "exchange:ex-1:2", "exchange:ex-1:0", "hold:ex-1", "exchange:ex-1:x"}) {
    EXPECT_EQ(apply_ledger_held(ex, id, kT0).outcome, Outcome::unknown_transfer) << id;
    EXPECT_EQ(apply_ledger_rejected(ex, id, "r", kT0).outcome, Outcome::unknown_transfer) << id;
  }
  EXPECT_EQ(ex.state, State::accepting);
}

TEST(ExchangeDecline, decline_ends_the_proposal_without_effects) {
  Exchange ex = proposed();
  const ExchangeResult result = decline_exchange(ex, provider(), kT0 + kHour);
  EXPECT_EQ(result.state, State::declined);
  EXPECT_TRUE(result.effects.empty());
}

TEST(ExchangeCancel, effects_depend_on_how_far_the_exchange_went) {
  Exchange from_proposed = proposed();
  EXPECT_TRUE(cancel_exchange(from_proposed, provider(), kT0).effects.empty());
  Exchange from_accepting = accepting();
  EXPECT_EQ(kinds(cancel_exchange(from_accepting, provider(), kT0)),
            std::vector<Kind>{Kind::ledger_void});
  Exchange from_accepted = accepted();
  const ExchangeResult result = cancel_exchange(from_accepted, provider(), kT0);
  EXPECT_EQ(kinds(result), (std::vector<Kind>{Kind::ledger_void, Kind::listings_release}));
  EXPECT_EQ(result.effects[0].transfer_id, "exchange:ex-1:1");
}

TEST(ExchangeComplete, both_parties_confirm_then_the_hold_is_posted) {
  Exchange ex = accepted(45);
  const ExchangeResult first = confirm_completion(ex, provider(), kT0 + kDay);
  EXPECT_EQ(first.state, State::accepted);
  EXPECT_TRUE(first.effects.empty());
  EXPECT_EQ(ex.history.back().note, "confirmation: provider");
  EXPECT_EQ(confirm_completion(ex, provider(), kT0 + kDay).outcome, Outcome::already_confirmed);
  const ExchangeResult second = confirm_completion(ex, receiver(), kT0 + kDay + 1);
  EXPECT_EQ(second.state, State::completing);
  EXPECT_EQ(kinds(second), std::vector<Kind>{Kind::ledger_post});
  EXPECT_EQ(second.effects[0],
            (ExchangeEffect{Kind::ledger_post, "exchange:ex-1:1", "receiver-1", "provider-1", 45}));
}

TEST(ExchangeComplete, completed_only_once_the_ledger_posted_the_whole_hold) {
  Exchange ex = completing(45);
  const ExchangeResult posted = apply_ledger_posted(ex, "exchange:ex-1:1", 45, kT0 + kDay);
  EXPECT_EQ(posted.state, State::completed);
  EXPECT_EQ(kinds(posted), std::vector<Kind>{Kind::listings_close});
  EXPECT_EQ(ex.history.back().note, "posted");
  EXPECT_EQ(ex.history.back().actor_member_id, "");
  const size_t entries = ex.history.size();
  const ExchangeResult again = apply_ledger_posted(ex, "exchange:ex-1:1", 45, kT0 + kDay);
  EXPECT_TRUE(again.ok());
  EXPECT_TRUE(again.effects.empty());
  EXPECT_EQ(ex.history.size(), entries);
}

TEST(ExchangeComplete, a_completing_exchange_can_no_longer_be_cancelled_or_disputed) {
  Exchange ex = completing();
  EXPECT_EQ(cancel_exchange(ex, receiver(), kT0 + kDay).outcome, Outcome::invalid_state);
  EXPECT_EQ(dispute_exchange(ex, receiver(), "", kT0 + kDay).outcome, Outcome::invalid_state);
  EXPECT_EQ(cancel_by_system(ex, "member-suspended", kT0 + kDay).outcome, Outcome::invalid_state);
  EXPECT_EQ(ex.state, State::completing);
}

TEST(ExchangeComplete, staff_alone_completes_the_exchange) {
  Exchange ex = accepted();
  const ExchangeResult result = confirm_completion(ex, staff(), kT0 + kDay);
  EXPECT_EQ(result.state, State::completing);
  EXPECT_TRUE(ex.staff_confirmed);
}

TEST(ExchangeComplete, staff_who_is_a_party_confirms_only_as_that_party) {
  Exchange ex = accepted();
  const ExchangeResult result =
      confirm_completion(ex, ExchangeActor::staff("provider-1"), kT0 + kDay);
  EXPECT_EQ(result.state, State::accepted);
  EXPECT_TRUE(ex.provider_confirmed);
  EXPECT_FALSE(ex.staff_confirmed);
}

TEST(ExchangeComplete, a_party_acting_for_the_other_party_is_refused) {
  // Staff who are the provider would otherwise confirm for the receiver and be paid alone.
  Exchange ex = accepted();
  const ExchangeActor provider_for_receiver = ExchangeActor::staff_for("provider-1", "receiver-1");
  EXPECT_EQ(confirm_completion(ex, provider_for_receiver, kT0 + kDay).outcome,
            Outcome::party_to_exchange);
  EXPECT_EQ(dispute_exchange(ex, provider_for_receiver, "", kT0 + kDay).outcome,
            Outcome::party_to_exchange);
  EXPECT_EQ(cancel_exchange(ex, provider_for_receiver, kT0 + kDay).outcome,
            Outcome::party_to_exchange);
  Exchange offered = proposed();  // proposed by the receiver: the provider accepts
  EXPECT_EQ(accept_exchange(offered, ExchangeActor::staff_for("receiver-1", "provider-1"), kPolicy,
                            kT0 + kHour)
                .outcome,
            Outcome::party_to_exchange);
  EXPECT_FALSE(ex.receiver_confirmed);
  EXPECT_EQ(offered.state, State::proposed);
}

TEST(ExchangeComplete, staff_for_a_party_confirms_for_that_party_only_and_is_recorded) {
  Exchange ex = accepted();
  const ExchangeResult result = confirm_completion(ex, staff_for_receiver(), kT0 + kDay);
  EXPECT_EQ(result.state, State::accepted);
  EXPECT_TRUE(ex.receiver_confirmed);
  EXPECT_EQ(confirm_completion(ex, receiver(), kT0 + kDay).outcome, Outcome::already_confirmed);
  const ExchangeHistoryEntry& entry = ex.history.back();
  EXPECT_EQ(entry.actor_member_id, "staff-1");
  EXPECT_EQ(entry.on_behalf_of_member_id, "receiver-1");
  EXPECT_EQ(entry.at_s, kT0 + kDay);
}

TEST(ExchangeDispute, a_dispute_waits_for_staff) {
  Exchange ex = accepted();
  const ExchangeResult result = dispute_exchange(ex, provider(), "", kT0 + kDay);
  EXPECT_EQ(result.state, State::disputed);
  EXPECT_TRUE(result.effects.empty());
  EXPECT_EQ(confirm_completion(ex, staff(), kT0 + kDay).outcome, Outcome::invalid_state);
}

TEST(ExchangeResolve, each_outcome_sends_its_ledger_command) {
  struct Case {
    Resolution resolution;
    std::vector<Kind> kinds;
    int64_t posted_minutes;
  };
  const std::vector<Case> cases = {
      {{ResolutionOutcome::post, 0, {}}, {Kind::ledger_post, Kind::listings_close}, 60},
      {{ResolutionOutcome::void_hold, 0, {}}, {Kind::ledger_void, Kind::listings_release}, 60},
      {{ResolutionOutcome::partial, 20, {}}, {Kind::ledger_post, Kind::listings_close}, 20},
      {{ResolutionOutcome::partial, 60, {}}, {Kind::ledger_post, Kind::listings_close}, 60},
  };
  for (const Case& c : cases) {
    Exchange ex = disputed(60);
    const ExchangeResult result = resolve_dispute(ex, staff(), c.resolution, kT0 + kDay);
    EXPECT_EQ(result.state, State::resolved);
    EXPECT_EQ(kinds(result), c.kinds);
    EXPECT_EQ(result.effects[0].transfer_id, "exchange:ex-1:1");
    EXPECT_EQ(result.effects[0].minutes, c.posted_minutes);
  }
}

TEST(ExchangeDispute, the_reason_is_kept_in_the_exchange_and_its_history) {
  Exchange ex = accepted();
  ASSERT_TRUE(dispute_exchange(ex, receiver(), "Personne n'est venu.", kT0 + kDay).ok());
  EXPECT_EQ(ex.dispute_reason, "Personne n'est venu.");
  EXPECT_EQ(ex.history.back().comment, "Personne n'est venu.");
  EXPECT_EQ(ex.history.back().note, "disputed");
  EXPECT_TRUE(ex.reason.empty());
}

TEST(ExchangeDispute, free_texts_are_bounded_and_hold_no_nul) {
  std::string accented;
  for (size_t i = 0; i < kDisputeReasonCodePointsMax; ++i) accented += "é";
  EXPECT_TRUE(validate_free_text("reason", accented, kDisputeReasonCodePointsMax).empty());
  EXPECT_TRUE(validate_free_text("reason", "", kDisputeReasonCodePointsMax).empty());
  const FieldErrors too_long =
      validate_free_text("reason", accented + "é", kDisputeReasonCodePointsMax);
  ASSERT_EQ(too_long.size(), 1u);
  EXPECT_EQ(too_long[0].field, "reason");
  EXPECT_EQ(validate_free_text("note", std::string("a\0b", 3), 10).size(), 1u);
  EXPECT_EQ(validate_free_text("note", "\xc3", 10).size(), 1u);
}

TEST(ExchangeResolve, a_party_never_resolves_its_own_dispute) {
  // Staff of the site who are the receiver: directly, for themselves, for the other party or for
  // a third member, the answer is the same.
  for (const ExchangeActor& actor :
       {ExchangeActor::staff("receiver-1"), ExchangeActor::staff_for("receiver-1", "receiver-1"),
        ExchangeActor::staff_for("receiver-1", "provider-1"),
        ExchangeActor::staff_for("receiver-1", "stranger-1"),
        ExchangeActor::staff_for("staff-1", "receiver-1"), ExchangeActor::member("provider-1")}) {
    Exchange ex = disputed();
    EXPECT_EQ(resolve_dispute(ex, actor, {ResolutionOutcome::post, 0, {}, {}}, kT0 + kDay).outcome,
              Outcome::party_to_exchange)
        << actor.member_id << " for " << actor.on_behalf_of;
    EXPECT_EQ(ex.state, State::disputed);
  }
}

TEST(ExchangeResolve, the_note_is_kept_in_the_resolution_and_its_history) {
  Exchange ex = disputed();
  const Resolution resolution{ResolutionOutcome::void_hold, 0, {}, "Annulé d'un commun accord."};
  ASSERT_TRUE(resolve_dispute(ex, staff(), resolution, kT0 + kDay).ok());
  EXPECT_EQ(ex.resolution->note, "Annulé d'un commun accord.");
  EXPECT_EQ(ex.history.back().comment, "Annulé d'un commun accord.");
  EXPECT_EQ(ex.history.back().note, "void");
}

TEST(ExchangeResolve, partial_minutes_outside_the_hold_are_refused) {
  for (int64_t minutes : {-5, 0, 61}) {
    Exchange ex = disputed(60);
    EXPECT_EQ(resolve_dispute(ex, staff(), {ResolutionOutcome::partial, minutes, {}}, kT0).outcome,
              Outcome::invalid_minutes)
        << minutes;
    EXPECT_EQ(ex.state, State::disputed);
  }
}

TEST(ExchangeResolve, an_absent_member_must_be_a_party) {
  Exchange ex = disputed();
  EXPECT_EQ(
      resolve_dispute(ex, staff(), {ResolutionOutcome::void_hold, 0, "stranger-1"}, kT0).outcome,
      Outcome::invalid_absent_member);
  EXPECT_TRUE(
      resolve_dispute(ex, staff(), {ResolutionOutcome::void_hold, 0, "provider-1"}, kT0).ok());
}

TEST(ExchangeLedgerSettlement, a_refused_post_disputes_the_exchange_with_the_ledgers_reason) {
  Exchange ex = completing();
  const ExchangeResult result =
      apply_ledger_rejected(ex, "exchange:ex-1:1", "already-voided", kT0 + kDay);
  EXPECT_EQ(result.state, State::disputed);
  EXPECT_TRUE(result.effects.empty());
  EXPECT_EQ(ex.reason, "ledger:already-voided");
  EXPECT_EQ(ex.history.back().note, "ledger:already-voided");
  EXPECT_TRUE(ex.hold_lost);
  // Nothing is left to post: staff can only close the case, and the listings come back.
  EXPECT_EQ(resolve_dispute(ex, staff(), {ResolutionOutcome::post, 0, {}, {}}, kT0 + kDay).outcome,
            Outcome::hold_gone);
  EXPECT_EQ(
      resolve_dispute(ex, staff(), {ResolutionOutcome::partial, 10, {}, {}}, kT0 + kDay).outcome,
      Outcome::hold_gone);
  const ExchangeResult voided =
      resolve_dispute(ex, staff(), {ResolutionOutcome::void_hold, 0, {}, {}}, kT0 + kDay);
  EXPECT_EQ(voided.state, State::resolved);
  EXPECT_EQ(kinds(voided), std::vector<Kind>{Kind::listings_release});
}

TEST(ExchangeLedgerSettlement, a_refusal_that_leaves_the_hold_pending_still_lets_staff_post) {
  Exchange ex = completing();
  apply_ledger_rejected(ex, "exchange:ex-1:1", "invalid-command", kT0 + kDay);
  EXPECT_EQ(ex.state, State::disputed);
  EXPECT_FALSE(ex.hold_lost);
  EXPECT_EQ(kinds(resolve_dispute(ex, staff(), {}, kT0 + kDay)),
            (std::vector<Kind>{Kind::ledger_post, Kind::listings_close}));
}

TEST(ExchangeLedgerSettlement, a_hold_voided_or_expired_under_the_exchange_disputes_it) {
  struct Case {
    Exchange ex;
    const char* reason;
  };
  for (Case c :
       {Case{accepted(), "voided"}, Case{completing(), "expired"}, Case{disputed(), "voided"}}) {
    const ExchangeResult result =
        apply_ledger_voided(c.ex, "exchange:ex-1:1", c.reason, kT0 + kDay);
    EXPECT_EQ(result.state, State::disputed);
    EXPECT_EQ(c.ex.reason, std::string("ledger:") + c.reason);
    EXPECT_TRUE(c.ex.hold_lost);
    EXPECT_EQ(c.ex.history.back().actor_member_id, "");
  }
}

TEST(ExchangeLedgerSettlement, the_exchanges_own_voids_change_nothing) {
  Exchange voided_by_resolution = disputed();
  resolve_dispute(voided_by_resolution, staff(), {ResolutionOutcome::void_hold, 0, {}, {}}, kT0);
  for (Exchange ex : {in_state(State::cancelled), voided_by_resolution}) {
    const Exchange before = ex;
    const ExchangeResult result = apply_ledger_voided(ex, "exchange:ex-1:1", "voided", kT0 + kDay);
    EXPECT_TRUE(result.ok());
    EXPECT_TRUE(result.effects.empty());
    EXPECT_EQ(ex.history, before.history);
    EXPECT_FALSE(ex.hold_lost);
  }
}

TEST(ExchangeLedgerSettlement, a_post_the_exchange_did_not_ask_for_disputes_it) {
  Exchange early = accepted();
  EXPECT_EQ(apply_ledger_posted(early, "exchange:ex-1:1", 1, kT0 + kDay).state, State::disputed);
  EXPECT_EQ(early.reason, "ledger:posted-outside-exchange");
  Exchange partly = completing(60);
  EXPECT_EQ(apply_ledger_posted(partly, "exchange:ex-1:1", 1, kT0 + kDay).state, State::disputed);
  EXPECT_EQ(partly.reason, "ledger:partially-posted");
  EXPECT_TRUE(partly.hold_lost);
  // The late answer to the exchange's own post changes nothing more.
  EXPECT_TRUE(apply_ledger_rejected(partly, "exchange:ex-1:1", "already-posted", kT0 + kDay).ok());
  EXPECT_EQ(partly.state, State::disputed);
}

TEST(ExchangeLedgerSettlement, answers_for_a_stale_attempt_or_an_unknown_transfer_change_nothing) {
  Exchange ex = accepting();
  apply_ledger_rejected(ex, "exchange:ex-1:1", "insufficient-credits", kT0 + kHour);
  accept_exchange(ex, provider(), kPolicy, kT0 + 2 * kHour);
  apply_ledger_held(ex, "exchange:ex-1:2", kT0 + 2 * kHour);
  const Exchange before = ex;
  EXPECT_TRUE(apply_ledger_voided(ex, "exchange:ex-1:1", "voided", kT0 + kDay).ok());
  EXPECT_TRUE(apply_ledger_posted(ex, "exchange:ex-1:1", 60, kT0 + kDay).ok());
  EXPECT_EQ(apply_ledger_posted(ex, "exchange:ex-9:1", 60, kT0 + kDay).outcome,
            Outcome::unknown_transfer);
  EXPECT_EQ(ex.history, before.history);
  EXPECT_EQ(ex.state, State::accepted);
}

TEST(ExchangeSystemCancel, a_party_leaving_cancels_what_was_not_handed_over) {
  struct Case {
    Exchange ex;
    std::vector<Kind> kinds;
  };
  for (Case c : {Case{proposed(), {}}, Case{accepting(), {Kind::ledger_void}},
                 Case{accepted(), {Kind::ledger_void, Kind::listings_release}}}) {
    const ExchangeResult result = cancel_by_system(c.ex, "member-suspended", kT0 + kDay);
    EXPECT_EQ(result.state, State::cancelled);
    EXPECT_EQ(kinds(result), c.kinds);
    EXPECT_EQ(c.ex.reason, "member-suspended");
    EXPECT_EQ(c.ex.history.back().actor_member_id, "");
    EXPECT_EQ(cancelled_by(c.ex), "");
  }
  for (State state : {State::completing, State::completed, State::disputed, State::resolved,
                      State::declined, State::expired, State::cancelled}) {
    Exchange ex = in_state(state);
    EXPECT_EQ(cancel_by_system(ex, "member-erased", kT0 + kDay).outcome, Outcome::invalid_state)
        << to_string(state);
  }
}

TEST(ExchangeSystemCancel, cancelled_by_names_the_party_also_through_staff) {
  Exchange direct = accepted();
  cancel_exchange(direct, receiver(), kT0 + kDay);
  EXPECT_EQ(cancelled_by(direct), "receiver-1");
  Exchange through_staff = accepted();
  cancel_exchange(through_staff, staff_for_provider(), kT0 + kDay);
  EXPECT_EQ(cancelled_by(through_staff), "provider-1");
}

TEST(ExchangeExpire, a_proposal_expires_only_at_its_deadline) {
  Exchange ex = proposed();
  const int64_t deadline_s = kT0 + kPolicy.proposal_days * kDay;
  EXPECT_FALSE(is_proposal_expired(ex, kPolicy, deadline_s - 1));
  EXPECT_EQ(expire_proposal(ex, ExchangeActor::system(), kPolicy, deadline_s - 1).outcome,
            Outcome::too_early);
  const ExchangeResult result = expire_proposal(ex, ExchangeActor::system(), kPolicy, deadline_s);
  EXPECT_EQ(result.state, State::expired);
  EXPECT_TRUE(result.effects.empty());
  EXPECT_EQ(ex.history.back().actor_member_id, "");
}

TEST(ExchangeOpen, a_proposal_names_two_distinct_parties_and_a_bounded_amount) {
  EXPECT_TRUE(validate_proposal(proposal()).empty());
  ExchangeProposal same = proposal();
  same.receiver_id = same.provider_id;
  same.proposer_id = same.provider_id;
  EXPECT_EQ(validate_proposal(same), (FieldErrors{{"receiver_id",
                                                   "ne peut pas être aussi celui "
                                                   "qui fournit"}}));
  ExchangeProposal outsider = proposal();
  outsider.proposer_id = "stranger-1";
  ASSERT_EQ(validate_proposal(outsider).size(), 1u);
  EXPECT_EQ(validate_proposal(outsider)[0].field, "proposer_id");
  ExchangeProposal too_much = proposal(kExchangeMinutesMax + 1);
  ASSERT_EQ(validate_proposal(too_much).size(), 1u);
  EXPECT_EQ(validate_proposal(too_much)[0].field, "minutes");
}

TEST(ExchangeOpen, a_new_exchange_is_proposed_with_one_history_entry) {
  const Exchange ex = open_exchange(proposal(), staff_for_receiver(), kT0);
  EXPECT_EQ(ex.state, State::proposed);
  EXPECT_EQ(ex.proposed_at_s, kT0);
  EXPECT_EQ(ex.attempt, 0);
  ASSERT_EQ(ex.history.size(), 1u);
  EXPECT_EQ(ex.history[0].on_behalf_of_member_id, "receiver-1");
}

TEST(ExchangeOpen, an_exchange_with_no_site_is_settled_at_its_desk_site) {
  ExchangeProposal neighbours = proposal();
  neighbours.site_id.clear();
  neighbours.desk_site_id = "site-home";
  const Exchange between = open_exchange(neighbours, receiver(), kT0);
  EXPECT_EQ(between.desk_site_id, "site-home");
  EXPECT_EQ(desk_site(between), "site-home");
  EXPECT_TRUE(exchange_invariants_hold(between));

  // A site of its own wins: a desk site is never kept beside it.
  ExchangeProposal at_site = proposal();
  at_site.desk_site_id = "site-home";
  const Exchange there = open_exchange(at_site, receiver(), kT0);
  EXPECT_EQ(there.desk_site_id, "");
  EXPECT_EQ(desk_site(there), "site-1");
  Exchange both = there;
  both.desk_site_id = "site-home";
  EXPECT_FALSE(exchange_invariants_hold(both));
}

TEST(ExchangeNames, states_round_trip_through_their_names) {
  for (int i = 0; i <= static_cast<int>(State::resolved); ++i) {
    const auto state = static_cast<State>(i);
    EXPECT_EQ(exchange_state_from_string(to_string(state)), state);
  }
  EXPECT_EQ(exchange_state_from_string("done"), std::nullopt);
  EXPECT_EQ(to_string(Outcome::not_a_party), "not-a-party");
  EXPECT_EQ(to_string(Outcome::party_to_exchange), "party-to-exchange");
  EXPECT_EQ(to_string(Outcome::hold_gone), "hold-gone");
  EXPECT_EQ(to_string(State::completing), "completing");
  EXPECT_EQ(ledger_transfer_id("ex-9", 3), "exchange:ex-9:3");
}

}  // namespace
}  // namespace maillon::test
