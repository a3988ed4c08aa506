// The members service's attempt counters (services/members/attempts): a fixed window opened by
// the first attempt, reserved before the attempt and given back on success, in Redis, and in the
// process when Redis does not answer.
#include "services/members/attempts.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "harness.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

using members::Attempts;

void expect_limit_of_five(Attempts& attempts, const std::string& key) {
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(attempts.reserve(key, 5, 60).allowed) << i;
  attempts.release(key);  // a success gives its reservation back
  EXPECT_TRUE(attempts.reserve(key, 5, 60).allowed);
  auto refused = attempts.reserve(key, 5, 60);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after_seconds, 1);
  EXPECT_LE(refused.retry_after_seconds, 60);
}

TEST(Attempts, five_in_a_window_then_refused_with_the_time_left) {
  RedisPool redis(redis_url(), 2);
  Attempts attempts(redis, "t" + unique_suffix());
  expect_limit_of_five(attempts, "login-account:a");
  EXPECT_TRUE(attempts.reserve("login-account:b", 5, 60).allowed);  // keys apart
}

TEST(Attempts, the_window_ends_and_attempts_count_again) {
  RedisPool redis(redis_url(), 2);
  Attempts attempts(redis, "t" + unique_suffix());
  ASSERT_TRUE(attempts.reserve("k", 1, 1).allowed);
  ASSERT_FALSE(attempts.reserve("k", 1, 1).allowed);
  EXPECT_TRUE(eventually([&] { return attempts.reserve("k", 1, 1).allowed; }, 5000));
}

TEST(Attempts, a_count_left_without_expiry_gets_one) {
  RedisPool redis(redis_url(), 2);
  const std::string prefix = "t" + unique_suffix();
  Attempts attempts(redis, prefix);
  Redis direct(redis_url());
  direct.command({"SET", prefix + ":attempts:k", "3"});
  EXPECT_TRUE(attempts.reserve("k", 5, 60).allowed);
  auto ttl = direct.command({"PTTL", prefix + ":attempts:k"});
  EXPECT_GT(ttl->integer, 0);
}

TEST(Attempts, without_redis_the_process_counts_alone) {
  RedisPool unreachable("redis://127.0.0.1:1", 1);
  Attempts attempts(unreachable, "t" + unique_suffix());
  expect_limit_of_five(attempts, "login-address:127.0.0.9");
}

}  // namespace
}  // namespace maillon::testing
