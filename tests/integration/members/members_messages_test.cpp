// The members message table: every result code but ok has exactly one row, and each row renders
// as the problem it stands for (a field for a 400, a sentence for all).
#include <gtest/gtest.h>

#include <set>

#include "services/members/messages.hpp"

namespace maillon::members {
namespace {

TEST(MembersMessages, every_refusal_code_has_one_row) {
  const auto table = message_table();
  std::set<int> seen;
  for (const auto& row : table) {
    EXPECT_NE(row.code, MembersCode::ok) << "ok is not a refusal";
    EXPECT_TRUE(seen.insert(static_cast<int>(row.code)).second)
        << "two rows for code " << static_cast<int>(row.code);
  }
  for (int i = static_cast<int>(MembersCode::ok) + 1; i <= static_cast<int>(kMembersCodeLast);
       ++i) {
    EXPECT_TRUE(seen.count(i)) << "no row for code " << i;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kMembersCodeLast));
}

TEST(MembersMessages, each_row_renders_as_its_problem) {
  for (int i = 1; i <= static_cast<int>(kMembersCodeLast); ++i) {
    const auto code = static_cast<MembersCode>(i);
    const ApiError error = problem(code, 60);
    const ProblemText& row = problem_text(message_table(), code);
    EXPECT_EQ(error.status(), row.status);
    EXPECT_FALSE(error.detail().empty());
    EXPECT_FALSE(error.title().empty());
    if (row.status == 400) {
      ASSERT_EQ(error.errors().size(), 1u) << i;
      EXPECT_EQ(error.errors()[0].field, row.field);
    } else {
      EXPECT_EQ(error.code(), row.code);
    }
    if (row.status == 429) {
      EXPECT_EQ(error.retry_after_seconds(), 60);
    }
  }
}

}  // namespace
}  // namespace maillon::members
