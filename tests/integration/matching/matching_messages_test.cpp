// The matching message table: every result code but ok has exactly one row, and each renders as
// the problem it stands for.
#include <gtest/gtest.h>

#include <set>

#include "services/matching/messages.hpp"

namespace maillon::matching_service {
namespace {

TEST(MatchingMessages, every_refusal_code_has_one_row) {
  std::set<int> seen;
  for (const auto& row : message_table()) {
    EXPECT_NE(row.code, MatchingCode::ok) << "ok is not a refusal";
    EXPECT_TRUE(seen.insert(static_cast<int>(row.code)).second)
        << "two rows for code " << static_cast<int>(row.code);
  }
  for (int i = 1; i <= static_cast<int>(kMatchingCodeLast); ++i) {
    EXPECT_TRUE(seen.count(i)) << "no row for code " << i;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kMatchingCodeLast));
}

TEST(MatchingMessages, each_row_renders_as_its_problem) {
  for (int i = 1; i <= static_cast<int>(kMatchingCodeLast); ++i) {
    const auto code = static_cast<MatchingCode>(i);
    const ProblemText& row = problem_text(message_table(), code);
    const ApiError error = problem(code);
    EXPECT_EQ(error.status(), row.status) << i;
    EXPECT_FALSE(error.detail().empty()) << i;
    if (!row.field.empty()) {
      ASSERT_EQ(error.errors().size(), 1u) << i;
      EXPECT_EQ(error.errors()[0], field_error(code));
    }
  }
}

TEST(MatchingMessages, a_number_out_of_range_names_its_field_and_bounds) {
  EXPECT_EQ(number_out_of_range("radius_km", 0, 50),
            (FieldError{"radius_km", "doit être un nombre entre 0 et 50"}));
}

}  // namespace
}  // namespace maillon::matching_service
