// The community policy: defaults are valid, out-of-range values are named.
#include "exchange/policy.hpp"

#include <gtest/gtest.h>

namespace maillon {

TEST(Policy, default_policy_is_valid) {
  EXPECT_TRUE(validate_policy(CommunityPolicy{}).empty());
}

TEST(Policy, positive_min_balance_is_refused_with_its_field) {
  CommunityPolicy p;
  p.min_balance = 10;
  auto errors = validate_policy(p);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "policy.min_balance");
}

TEST(Policy, signup_bonus_above_the_cap_is_refused) {
  CommunityPolicy p;
  p.signup_bonus = p.max_balance + 1;
  auto errors = validate_policy(p);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "policy.signup_bonus");
}

}  // namespace maillon
