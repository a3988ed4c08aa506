// Federation rules without I/O (exchange/federation.hpp): rates, limits per direction, and the
// comparison of two mirror clearing accounts.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "exchange/federation.hpp"

namespace maillon {
namespace {

ClearingLeg leg(const std::string& id, bool paid_across, TransferState state, int64_t amount,
                int64_t posted) {
  return {id, paid_across, state, amount, posted};
}

TEST(FederationRules, a_rate_converts_rounded_down_and_so_does_its_inverse) {
  EXPECT_EQ(partner_minutes(15, kRateMicroUnit), 15);
  EXPECT_EQ(partner_minutes(15, 1'500'000), 22);  // 22.5
  EXPECT_EQ(partner_minutes(1, 1'500'000), 1);    // 1.5
  EXPECT_EQ(partner_minutes(1, 400'000), 0);      // 0.4: too small to pay across
  EXPECT_EQ(inverse_rate_micro(1'500'000), 666'666);
  EXPECT_EQ(inverse_rate_micro(kRateMicroUnit), kRateMicroUnit);
  // Legs converted half up before still reconcile; nothing else does.
  EXPECT_TRUE(is_conversion(15, 22, 1'500'000));
  EXPECT_TRUE(is_conversion(15, 23, 1'500'000));
  EXPECT_FALSE(is_conversion(15, 24, 1'500'000));
  EXPECT_FALSE(is_conversion(15, 21, 1'500'000));
  EXPECT_TRUE(is_conversion(0, 0, 1'500'000));
}

// Two members on either side of a link pay each other back and forth: whatever the rate and the
// amounts, the minutes that come back are never more than those that went (rounded half up,
// 1 minute at 1.5 went over as 2 and came back as 1).
RC_GTEST_PROP(FederationRules, a_payment_across_and_back_never_gains, ()) {
  const int64_t rate = *rc::gen::inRange<int64_t>(kRateMicroMin, kRateMicroMax + 1);
  const int64_t minutes = *rc::gen::inRange<int64_t>(0, kTransferMinutesMax + 1);
  const int64_t there = partner_minutes(minutes, rate);
  const int64_t back = partner_minutes(there, inverse_rate_micro(rate));
  RC_ASSERT(back <= minutes);
  RC_ASSERT(is_conversion(minutes, there, rate));
}

TEST(FederationRules, clearing_accounts_name_their_partner) {
  const std::string id = clearing_account_id("a", "b");
  EXPECT_EQ(id, "clearing:a:b");
  EXPECT_TRUE(is_clearing_account_id(id));
  EXPECT_EQ(clearing_partner(id), "b");
  EXPECT_FALSE(is_clearing_account_id("community:a"));
}

TEST(FederationRules, a_limit_counts_holds_in_its_direction_only) {
  const ClearingLimits limits{100, 50};
  // Our members paid 30 across and 15 more are held: 5 more reach the credit limit, 6 pass it.
  const Account paid{"clearing:a:b", true, 30, 40, 15};
  EXPECT_TRUE(payer_side_within(paid, limits, 5));
  EXPECT_FALSE(payer_side_within(paid, limits, 6));
  // Received across: balance -90 and 10 held out: 0 more reach the debit limit of 100.
  const Account received{"clearing:b:a", true, -90, 10, 500};
  EXPECT_TRUE(payee_side_within(received, limits, 0));
  EXPECT_FALSE(payee_side_within(received, limits, 1));
}

TEST(FederationRules, agreeing_mirrors_have_no_difference) {
  const ClearingSide ours{"clearing:a:b",
                          1'500'000,
                          {leg("t1", true, TransferState::posted, 15, 15),
                           leg("t2", false, TransferState::pending, 6, 0)}};
  const ClearingSide theirs{"clearing:b:a",
                            666'667,
                            {leg("t1", false, TransferState::posted, 23, 23),
                             leg("t2", true, TransferState::pending, 9, 0)}};
  EXPECT_TRUE(compare_mirrors(ours, theirs).empty());
}

TEST(FederationRules, every_disagreement_is_named_transfer_by_transfer) {
  const ClearingSide ours{"clearing:a:b",
                          kRateMicroUnit,
                          {leg("t1", true, TransferState::posted, 10, 10),
                           leg("t2", true, TransferState::posted, 10, 10),
                           leg("t3", true, TransferState::posted, 10, 10),
                           leg("t4", true, TransferState::pending, 10, 0)}};
  const ClearingSide theirs{"clearing:b:a",
                            kRateMicroUnit,
                            {leg("t2", false, TransferState::pending, 10, 0),
                             leg("t3", false, TransferState::posted, 11, 11),
                             leg("t4", true, TransferState::pending, 10, 0),
                             leg("t5", false, TransferState::voided, 10, 0)}};
  const auto d = compare_mirrors(ours, theirs);
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d[0].kind, MirrorDifferenceKind::missing_theirs);
  EXPECT_EQ(d[1].kind, MirrorDifferenceKind::state);
  EXPECT_EQ(d[2].kind, MirrorDifferenceKind::amount);
  EXPECT_EQ(d[3].kind, MirrorDifferenceKind::direction);
  EXPECT_EQ(d[4].kind, MirrorDifferenceKind::missing_ours);
  EXPECT_EQ(d[4].transfer_id, "t5");
  EXPECT_EQ(compare_mirrors(ours, theirs, 2).size(), 2u);
}

}  // namespace
}  // namespace maillon
