// Reliability figures and ratings: what a finished exchange adds to each party, and who may
// rate it.
#include <gtest/gtest.h>

#include <string>

#include "exchange_builders.hpp"

namespace maillon::test {
namespace {

TEST(Reliability, a_newcomer_starts_halfway) {
  EXPECT_DOUBLE_EQ(reliability({}), 0.5);
}

TEST(Reliability, completions_raise_and_failures_lower_it_within_bounds) {
  EXPECT_DOUBLE_EQ(reliability({8, 0, 0}), 0.9);
  EXPECT_DOUBLE_EQ(reliability({0, 1, 1}), 0.25);
  EXPECT_DOUBLE_EQ(reliability({2, 1, 0}), 0.6);
  const double many = reliability({1'000'000, 0, 0});
  EXPECT_GT(many, 0.99);
  EXPECT_LT(many, 1.0);
  EXPECT_GT(reliability({0, 1'000'000, 0}), 0.0);
}

TEST(Reliability, a_completed_exchange_counts_for_both_parties_once_the_ledger_posted) {
  Exchange ex = accepted();
  confirm_completion(ex, staff(), kT0 + kDay);
  EXPECT_TRUE(reliability_deltas(ex).empty());  // completing: the ledger has not answered
  apply_ledger_posted(ex, current_transfer_id(ex), ex.minutes, kT0 + kDay);
  EXPECT_EQ(reliability_deltas(ex),
            (std::vector<ReliabilityDelta>{{"provider-1", {1, 0, 0}}, {"receiver-1", {1, 0, 0}}}));
}

TEST(Reliability, cancelling_after_accept_counts_against_the_canceller_even_through_staff) {
  Exchange ex = accepted();
  cancel_exchange(ex, staff_for_provider(), kT0 + kDay);
  EXPECT_EQ(reliability_deltas(ex), (std::vector<ReliabilityDelta>{{"provider-1", {0, 1, 0}}}));
  Exchange while_accepting = accepting();
  cancel_exchange(while_accepting, receiver(), kT0 + kDay);
  EXPECT_EQ(reliability_deltas(while_accepting),
            (std::vector<ReliabilityDelta>{{"receiver-1", {0, 1, 0}}}));
}

TEST(Reliability, a_cancellation_by_the_system_counts_against_nobody) {
  Exchange ex = accepted();
  cancel_by_system(ex, "member-suspended", kT0 + kDay);
  EXPECT_EQ(cancelled_by(ex), "");
  EXPECT_TRUE(reliability_deltas(ex).empty());
}

TEST(Reliability, ending_before_any_accept_counts_nothing) {
  Exchange cancelled = proposed();
  cancel_exchange(cancelled, receiver(), kT0);
  EXPECT_TRUE(reliability_deltas(cancelled).empty());
  EXPECT_TRUE(reliability_deltas(in_state(ExchangeState::declined)).empty());
  EXPECT_TRUE(reliability_deltas(in_state(ExchangeState::expired)).empty());
  EXPECT_TRUE(reliability_deltas(accepted()).empty());
}

TEST(Reliability, a_resolution_names_the_absent_member_as_a_no_show) {
  Exchange voided = disputed();
  resolve_dispute(voided, staff(), {ResolutionOutcome::void_hold, 0, "provider-1"}, kT0 + kDay);
  EXPECT_EQ(reliability_deltas(voided), (std::vector<ReliabilityDelta>{{"provider-1", {0, 0, 1}}}));
  Exchange partial = disputed();
  resolve_dispute(partial, staff(), {ResolutionOutcome::partial, 30, {}}, kT0 + kDay);
  EXPECT_EQ(reliability_deltas(partial),
            (std::vector<ReliabilityDelta>{{"provider-1", {1, 0, 0}}, {"receiver-1", {1, 0, 0}}}));
}

TEST(Rating, stars_and_comment_are_bounded) {
  EXPECT_TRUE(validate_rating(1, "").empty());
  EXPECT_TRUE(validate_rating(5, std::string(1000, 'a')).empty());
  EXPECT_EQ(validate_rating(0, "")[0].field, "stars");
  EXPECT_EQ(validate_rating(6, "")[0].field, "stars");
  EXPECT_EQ(validate_rating(4, std::string(1001, 'a'))[0].field, "comment");
  EXPECT_EQ(validate_rating(4, "\xff")[0].field, "comment");
  EXPECT_EQ(validate_rating(4, std::string("a\0b", 3))[0].field, "comment");
}

TEST(Rating, a_comment_is_measured_in_characters_not_bytes) {
  std::string accented;
  for (int i = 0; i < 1000; ++i) accented += "é";  // two bytes each
  EXPECT_TRUE(validate_rating(3, accented).empty());
  EXPECT_FALSE(validate_rating(3, accented + "é").empty());
}

TEST(Rating, each_party_rates_once_and_only_a_finished_exchange) {
  Exchange done = completed();
  EXPECT_EQ(may_rate(done, "provider-1", false), RatingPermission::allowed);
  EXPECT_EQ(may_rate(completing(), "provider-1", false), RatingPermission::invalid_state);
  EXPECT_EQ(may_rate(done, "receiver-1", true), RatingPermission::already_rated);
  EXPECT_EQ(may_rate(done, "stranger-1", false), RatingPermission::not_a_party);
  EXPECT_EQ(may_rate(accepted(), "provider-1", false), RatingPermission::invalid_state);
  EXPECT_EQ(may_rate(in_state(ExchangeState::cancelled), "provider-1", false),
            RatingPermission::invalid_state);
  Exchange voided = disputed();
  resolve_dispute(voided, staff(), {ResolutionOutcome::void_hold, 0, {}}, kT0 + kDay);
  EXPECT_EQ(may_rate(voided, "provider-1", false), RatingPermission::invalid_state);
  EXPECT_EQ(may_rate(in_state(ExchangeState::resolved), "provider-1", false),
            RatingPermission::allowed);
}

}  // namespace
}  // namespace maillon::test
