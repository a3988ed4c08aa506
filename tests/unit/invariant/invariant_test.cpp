// MAILLON_INVARIANT: kept in every build type, it stops the process with what broke and where.
#include "exchange/invariant.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace maillon {
namespace {

int checked_twice(int value, int& evaluations) {
  MAILLON_INVARIANT((++evaluations, value > 0), "the value is positive");
  return value * 2;
}

TEST(InvariantTest, a_holding_invariant_lets_the_code_go_on_and_evaluates_its_condition_once) {
  int evaluations = 0;
  EXPECT_EQ(checked_twice(21, evaluations), 42);
  EXPECT_EQ(evaluations, 1);
}

#ifdef NDEBUG
TEST(InvariantTest, this_build_is_a_release_build_where_assert_vanishes) {
  SUCCEED() << "the death tests below run with NDEBUG defined: the check stays in release";
}
#endif

TEST(InvariantDeathTest, a_broken_invariant_aborts_naming_what_the_condition_and_where) {
  int evaluations = 0;
  EXPECT_DEATH(checked_twice(-1, evaluations),
               "invariant broken: the value is positive \\(.*value > 0.*\\) at "
               ".*invariant_test\\.cpp:[0-9]+");
}

TEST(InvariantDeathTest, a_broken_invariant_ends_the_process_abnormally) {
  EXPECT_EXIT(MAILLON_INVARIANT(1 + 1 == 3, "arithmetic holds"), ::testing::KilledBySignal(SIGABRT),
              "arithmetic holds");
}

}  // namespace
}  // namespace maillon
