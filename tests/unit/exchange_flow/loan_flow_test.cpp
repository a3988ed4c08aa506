// Loans and no-shows in the exchange workflow (issue #19): who may move a loan, what each step
// sends to the ledger (the cost at hand-over, the deposit held then voided or posted), renewals
// and lateness, and who a no-show counts against.
#include <gtest/gtest.h>

#include <string>

#include "exchange_builders.hpp"

namespace maillon::test {
namespace {

constexpr int64_t kDeposit = 40;

Exchange loan(int64_t cost = 30, int64_t deposit = kDeposit) {
  ExchangeProposal p = proposal(cost);
  p.mode = ListingMode::lend;
  p.starts_at_s = kT0 + kHour;
  p.due_at_s = kT0 + 3 * kDay;
  p.deposit_minutes = deposit;
  return open_exchange(p, receiver(), kT0);
}

// Accepted, both holds answered by the ledger.
Exchange held_loan() {
  Exchange ex = loan();
  ExchangeResult accepted = accept_exchange(ex, provider(), CommunityPolicy{}, kT0);
  EXPECT_EQ(accepted.effects.size(), 2u);  // the deposit and the cost
  EXPECT_TRUE(apply_deposit_answer(ex, deposit_transfer_id(ex), "pending", kT0).ok());
  EXPECT_TRUE(apply_ledger_held(ex, current_transfer_id(ex), kT0).ok());
  return ex;
}

Exchange handed_over_loan() {
  Exchange ex = held_loan();
  EXPECT_TRUE(confirm_handover(ex, receiver(), kT0).ok());
  ExchangeResult both = confirm_handover(ex, provider(), kT0);
  EXPECT_EQ(both.state, ExchangeState::completing);
  EXPECT_TRUE(apply_ledger_posted(ex, current_transfer_id(ex), 30, kT0).ok());
  EXPECT_EQ(ex.state, ExchangeState::handed_over);
  return ex;
}

TEST(LoanFlow, dates_are_required_ordered_and_not_in_the_past) {
  EXPECT_TRUE(validate_loan_dates(kT0 + kHour, kT0 + kDay, kT0).empty());
  EXPECT_FALSE(validate_loan_dates(0, kT0 + kDay, kT0).empty());
  EXPECT_FALSE(validate_loan_dates(kT0 + kDay, kT0 + kHour, kT0).empty());
  EXPECT_FALSE(validate_loan_dates(kT0 - 3 * kDay, kT0 - kDay, kT0).empty());
}

TEST(LoanFlow, the_hand_over_waits_for_the_deposit_and_posts_the_cost) {
  Exchange ex = loan();
  accept_exchange(ex, provider(), CommunityPolicy{}, kT0);
  apply_ledger_held(ex, current_transfer_id(ex), kT0);
  EXPECT_EQ(confirm_handover(ex, receiver(), kT0).outcome, ExchangeOutcome::deposit_pending);
  apply_deposit_answer(ex, deposit_transfer_id(ex), "pending", kT0);
  EXPECT_EQ(confirm_handover(ex, stranger(), kT0).outcome, ExchangeOutcome::not_a_party);
  EXPECT_EQ(confirm_completion(ex, receiver(), kT0).outcome, ExchangeOutcome::invalid_state);
  EXPECT_TRUE(confirm_handover(ex, receiver(), kT0).ok());
  EXPECT_EQ(confirm_handover(ex, receiver(), kT0).outcome, ExchangeOutcome::already_confirmed);
  ExchangeResult both = confirm_handover(ex, provider(), kT0);
  ASSERT_EQ(both.effects.size(), 1u);
  EXPECT_EQ(both.effects[0].kind, ExchangeEffectKind::ledger_post);
  EXPECT_EQ(both.effects[0].minutes, 30);
}

TEST(LoanFlow, the_return_needs_both_parties_and_voids_the_deposit) {
  Exchange ex = handed_over_loan();
  ExchangeResult one = confirm_return(ex, receiver(), kT0 + kDay);
  EXPECT_EQ(one.state, ExchangeState::handed_over);
  EXPECT_TRUE(one.effects.empty());
  ExchangeResult both = confirm_return(ex, provider(), kT0 + kDay);
  EXPECT_EQ(both.state, ExchangeState::completed);
  ASSERT_EQ(both.effects.size(), 1u);
  EXPECT_EQ(both.effects[0].kind, ExchangeEffectKind::ledger_void);
  EXPECT_EQ(both.effects[0].transfer_id, deposit_transfer_id(ex));
  EXPECT_EQ(reliability_deltas(ex).size(), 2u);
}

TEST(LoanFlow, renewals_are_asked_by_the_borrower_granted_by_the_owner_and_bounded) {
  Exchange ex = handed_over_loan();
  EXPECT_EQ(request_renewal(ex, provider(), kT0 + 5 * kDay, 1, kT0).outcome,
            ExchangeOutcome::not_allowed_for_role);
  EXPECT_EQ(accept_renewal(ex, provider(), kT0).outcome, ExchangeOutcome::no_renewal_requested);
  EXPECT_EQ(request_renewal(ex, receiver(), kT0 + kDay, 1, kT0).outcome,
            ExchangeOutcome::invalid_due_date);
  EXPECT_TRUE(request_renewal(ex, receiver(), kT0 + 5 * kDay, 1, kT0).ok());
  EXPECT_EQ(accept_renewal(ex, receiver(), kT0).outcome, ExchangeOutcome::not_allowed_for_role);
  EXPECT_TRUE(accept_renewal(ex, provider(), kT0).ok());
  EXPECT_EQ(ex.due_at_s, kT0 + 5 * kDay);
  EXPECT_EQ(request_renewal(ex, receiver(), kT0 + 9 * kDay, 1, kT0).outcome,
            ExchangeOutcome::too_many_renewals);
  EXPECT_EQ(mark_late(ex, kT0 + 4 * kDay).outcome, ExchangeOutcome::too_early);
  EXPECT_TRUE(mark_late(ex, kT0 + 6 * kDay).ok());
  EXPECT_EQ(request_renewal(ex, receiver(), kT0 + 9 * kDay, 5, kT0 + 6 * kDay).outcome,
            ExchangeOutcome::renewal_while_late);
  EXPECT_TRUE(confirm_return(ex, staff(), kT0 + 7 * kDay).ok());  // staff of the site, for both
  EXPECT_EQ(ex.state, ExchangeState::completed);
}

TEST(LoanFlow, staff_not_a_party_rule_it_lost_and_the_deposit_is_posted) {
  Exchange ex = handed_over_loan();
  EXPECT_EQ(declare_lost(ex, provider(), kT0).outcome, ExchangeOutcome::party_to_exchange);
  ExchangeResult lost = declare_lost(ex, staff(), kT0);
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost.state, ExchangeState::lost);
  ASSERT_EQ(lost.effects.size(), 1u);
  EXPECT_EQ(lost.effects[0].kind, ExchangeEffectKind::ledger_post);
  EXPECT_EQ(lost.effects[0].minutes, kDeposit);
}

TEST(LoanFlow, a_refused_deposit_cancels_the_loan_and_voids_the_cost) {
  Exchange ex = loan();
  accept_exchange(ex, provider(), CommunityPolicy{}, kT0);
  ExchangeResult refused = apply_deposit_answer(ex, deposit_transfer_id(ex), "rejected", kT0);
  EXPECT_EQ(refused.state, ExchangeState::cancelled);
  EXPECT_EQ(ex.reason, "deposit-refused");
  EXPECT_TRUE(reliability_deltas(ex).empty());  // nobody chose to abandon it
}

TEST(NoShow, only_after_the_time_against_the_other_party_and_it_counts_against_them) {
  Exchange ex = accepted(60);  // accepted at kT0 + 1 h, for a meeting at kT0 + 2 h
  const int64_t meeting = kT0 + 2 * kHour, later = kT0 + 3 * kHour;
  EXPECT_EQ(record_no_show(ex, provider(), "receiver-1", meeting, meeting - 1).outcome,
            ExchangeOutcome::too_early_for_no_show);
  EXPECT_EQ(record_no_show(ex, provider(), "provider-1", meeting, later).outcome,
            ExchangeOutcome::invalid_absent_member_no_show);
  EXPECT_EQ(record_no_show(ex, stranger(), "receiver-1", meeting, later).outcome,
            ExchangeOutcome::not_a_party);
  ExchangeResult recorded = record_no_show(ex, provider(), "receiver-1", meeting, later);
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(recorded.state, ExchangeState::cancelled);
  const auto deltas = reliability_deltas(ex);
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].member_id, "receiver-1");
  EXPECT_EQ(deltas[0].counts.no_show, 1);
}

// A meeting whose time had passed when the other party accepted was never agreed in time: the
// proposer cannot back-date it and blame the other party the moment they accept.
TEST(NoShow, not_for_a_meeting_already_past_when_the_exchange_was_accepted) {
  Exchange ex = accepted(60);  // accepted at kT0 + 1 h
  for (const int64_t meeting : {kT0 - 365 * kDay, kT0, kT0 + kHour - 1}) {
    EXPECT_EQ(record_no_show(ex, receiver(), "provider-1", meeting, kT0 + 3 * kHour).outcome,
              ExchangeOutcome::meeting_already_past);
  }
  EXPECT_EQ(ex.state, ExchangeState::accepted);
  EXPECT_TRUE(reliability_deltas(ex).empty());
  // A meeting at the very second of the acceptance still counts.
  EXPECT_TRUE(record_no_show(ex, receiver(), "provider-1", kT0 + kHour, kT0 + 3 * kHour).ok());
}

TEST(NoShow, the_last_acceptance_counts_when_a_first_one_found_no_credits) {
  Exchange ex = accepting(60);  // accepted at kT0 + 1 h, then refused by the ledger
  apply_ledger_rejected(ex, current_transfer_id(ex), "insufficient-credits", kT0 + kHour + 10);
  ASSERT_EQ(ex.state, ExchangeState::proposed);
  accept_exchange(ex, provider(), CommunityPolicy{}, kT0 + 5 * kHour);
  apply_ledger_held(ex, current_transfer_id(ex), kT0 + 5 * kHour + 1);
  ASSERT_EQ(ex.state, ExchangeState::accepted);
  EXPECT_EQ(accepted_at_s(ex), kT0 + 5 * kHour);
  EXPECT_EQ(record_no_show(ex, receiver(), "provider-1", kT0 + 2 * kHour, kT0 + 6 * kHour).outcome,
            ExchangeOutcome::meeting_already_past);
}

TEST(ScheduledAt, from_a_day_ago_to_a_year_ahead) {
  EXPECT_TRUE(validate_scheduled_at(kT0, kT0).empty());
  EXPECT_TRUE(validate_scheduled_at(kT0 - kDay, kT0).empty());  // done this morning, at the desk
  EXPECT_TRUE(validate_scheduled_at(kT0 + 366 * kDay, kT0).empty());
  ASSERT_EQ(validate_scheduled_at(kT0 - kDay - 1, kT0).size(), 1u);
  EXPECT_EQ(validate_scheduled_at(kT0 - kDay - 1, kT0)[0].field, "scheduled_at");
  EXPECT_EQ(validate_scheduled_at(kT0 - 6 * 365 * kDay, kT0)[0].message,
            "ne peut pas être dans le passé");
  EXPECT_EQ(validate_scheduled_at(kT0 + 366 * kDay + 1, kT0)[0].message,
            "au plus un an à l'avance");
}

}  // namespace
}  // namespace maillon::test
