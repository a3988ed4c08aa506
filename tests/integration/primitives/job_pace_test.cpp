// The pace of periodic jobs (services/common/job_pace.hpp): a job whose runs find nothing is run
// less often, up to a ceiling, and wake_jobs() or a run that found work brings it back.
#include "services/common/job_pace.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace maillon {
namespace {

using std::chrono::milliseconds;

TEST(JobPace, idle_runs_double_the_interval_up_to_the_ceiling) {
  EXPECT_EQ(paced_interval(milliseconds(100), 0), milliseconds(100));
  EXPECT_EQ(paced_interval(milliseconds(100), 1), milliseconds(200));
  EXPECT_EQ(paced_interval(milliseconds(100), 3), milliseconds(800));
  EXPECT_EQ(paced_interval(milliseconds(100), 5), kIdleJobIntervalMax);
  EXPECT_EQ(paced_interval(milliseconds(100), 1000), kIdleJobIntervalMax);
  EXPECT_EQ(paced_interval(milliseconds(1500), 1), kIdleJobIntervalMax);
}

TEST(JobPace, a_job_slower_than_the_ceiling_keeps_its_own_interval) {
  EXPECT_EQ(paced_interval(milliseconds(30'000), 0), milliseconds(30'000));
  EXPECT_EQ(paced_interval(milliseconds(30'000), 7), milliseconds(30'000));
}

TEST(JobPace, doubled_stops_at_its_ceiling_unless_the_base_is_above_it) {
  EXPECT_EQ(doubled(milliseconds(200), 0, milliseconds(1000)), milliseconds(200));
  EXPECT_EQ(doubled(milliseconds(200), 2, milliseconds(1000)), milliseconds(800));
  EXPECT_EQ(doubled(milliseconds(200), 3, milliseconds(1000)), milliseconds(1000));
  EXPECT_EQ(doubled(milliseconds(5000), 3, milliseconds(1000)), milliseconds(5000));
}

TEST(JobPace, found_nothing_is_told_once_and_only_on_the_thread_of_the_run) {
  EXPECT_FALSE(take_job_found_nothing());
  job_found_nothing();
  bool seen_elsewhere = true;
  std::thread([&] { seen_elsewhere = take_job_found_nothing(); }).join();
  EXPECT_FALSE(seen_elsewhere);
  EXPECT_TRUE(take_job_found_nothing());
  EXPECT_FALSE(take_job_found_nothing());
}

TEST(JobPace, a_wake_from_any_thread_is_counted) {
  const auto before = job_wakes();
  std::thread([] { wake_jobs(); }).join();
  wake_jobs();
  EXPECT_EQ(job_wakes(), before + 2);
}

}  // namespace
}  // namespace maillon
