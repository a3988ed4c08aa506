// The listing message table (offers and requests): every result code but ok has exactly one row,
// and each renders as the problem it stands for.
#include <gtest/gtest.h>

#include <set>

#include "services/offers/messages.hpp"

namespace maillon::listings {
namespace {

TEST(ListingMessages, every_refusal_code_has_one_row) {
  std::set<int> seen;
  for (const auto& row : message_table()) {
    EXPECT_NE(row.code, ListingCode::ok) << "ok is not a refusal";
    EXPECT_TRUE(seen.insert(static_cast<int>(row.code)).second)
        << "two rows for code " << static_cast<int>(row.code);
  }
  for (int i = 1; i <= static_cast<int>(kListingCodeLast); ++i) {
    EXPECT_TRUE(seen.count(i)) << "no row for code " << i;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kListingCodeLast));
}

TEST(ListingMessages, each_row_renders_as_its_problem) {
  for (int i = 1; i <= static_cast<int>(kListingCodeLast); ++i) {
    const auto code = static_cast<ListingCode>(i);
    const ProblemText& row = problem_text(message_table(), code);
    const ApiError error = problem(code, {}, "reserved");
    EXPECT_EQ(error.status(), row.status) << i;
    EXPECT_FALSE(error.detail().empty()) << i;
    if (!row.field.empty()) {
      ASSERT_EQ(error.errors().size(), 1u) << i;
      EXPECT_EQ(error.errors()[0], field_error(code));
    }
  }
}

TEST(ListingMessages, a_status_conflict_names_the_current_status) {
  EXPECT_EQ(problem(ListingCode::status_conflict, {}, "closed").detail(),
            "Cette annonce ne peut plus passer à ce statut (closed).");
}

TEST(ListingMessages, field_errors_travel_with_their_summary) {
  const ApiError error =
      problem(ListingCode::invalid_parameters,
              {field_error(ListingCode::invalid_near), field_error(ListingCode::invalid_cursor)});
  EXPECT_EQ(error.status(), 400);
  EXPECT_EQ(error.code(), "invalid-input");
  EXPECT_EQ(error.detail(), "Certains paramètres sont invalides.");
  ASSERT_EQ(error.errors().size(), 2u);
  EXPECT_EQ(error.errors()[0].field, "near");
}

}  // namespace
}  // namespace maillon::listings
