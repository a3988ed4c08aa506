// The weekly repeat of late notices (exchange/late_notices.hpp), shared by loans between members
// and the depot's: which week is due, once each, and when the next one falls.
#include "exchange/late_notices.hpp"

#include <gtest/gtest.h>

namespace maillon::test {
namespace {

constexpr int64_t kDue = 1'900'000'000;
constexpr int64_t kWeek = kLateNoticeEveryS;

TEST(LateNotices, no_repeat_before_a_full_week_past_the_due_date) {
  EXPECT_EQ(late_notice_week(kDue, kDue - 1), 0);
  EXPECT_EQ(late_notice_week(kDue, kDue + kWeek - 1), 0);
  EXPECT_FALSE(weekly_late_notice(kDue, 0, kDue + kWeek - 1));
}

TEST(LateNotices, each_week_is_due_once_from_its_first_second) {
  const auto first = weekly_late_notice(kDue, 0, kDue + kWeek);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->week, 1);
  EXPECT_EQ(first->next_at_s, kDue + 2 * kWeek);
  EXPECT_FALSE(weekly_late_notice(kDue, 1, kDue + 2 * kWeek - 1));  // told: nothing more that week
  const auto second = weekly_late_notice(kDue, 1, kDue + 2 * kWeek);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->week, 2);
  EXPECT_EQ(second->next_at_s, late_notice_at_s(kDue, 3));
}

TEST(LateNotices, after_a_pause_only_the_current_week_is_told) {
  const auto notice = weekly_late_notice(kDue, 1, kDue + 4 * kWeek + 3600);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->week, 4);
  EXPECT_EQ(notice->next_at_s, kDue + 5 * kWeek);
}

}  // namespace
}  // namespace maillon::test
