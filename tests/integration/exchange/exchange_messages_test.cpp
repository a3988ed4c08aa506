// The exchange service's message table has a row for every code its workflow and its use cases
// return, so no refusal reaches a client as a logic_error (a 500).
#include <gtest/gtest.h>

#include "services/exchange/messages.hpp"

namespace maillon::testing {
namespace {

using exchange::ExchangeRefusal;

TEST(ExchangeMessages, every_refusal_of_the_workflow_has_a_row) {
  for (int i = static_cast<int>(ExchangeOutcome::ok) + 1;
       i <= static_cast<int>(ExchangeOutcome::invalid_absent_member_no_show); ++i) {
    const auto outcome = static_cast<ExchangeOutcome>(i);
    const ApiError error = exchange::problem(outcome);
    EXPECT_FALSE(error.detail().empty()) << to_string(outcome);
    if (error.status() != 404 && error.status() != 403) {
      EXPECT_EQ(error.code(), to_string(outcome));
    }
  }
}

TEST(ExchangeMessages, every_refusal_of_the_use_cases_has_a_row) {
  for (int i = static_cast<int>(ExchangeRefusal::none) + 1;
       i <= static_cast<int>(exchange::kLastExchangeRefusal); ++i) {
    const ApiError error = exchange::problem(static_cast<ExchangeRefusal>(i));
    EXPECT_FALSE(error.detail().empty()) << i;
    EXPECT_FALSE(error.code().empty()) << i;
  }
}

TEST(ExchangeMessages, a_pending_member_keeps_the_title_of_the_refusal) {
  const ApiError error = exchange::problem(ExchangeRefusal::membership_pending);
  EXPECT_EQ(error.status(), 403);
  EXPECT_EQ(error.code(), "membership-pending");
  EXPECT_EQ(error.title(), "Adhésion en attente");
}

TEST(ExchangeMessages, a_query_parameter_is_named_at_run_time) {
  const ApiError error =
      exchange::problem_on_field(ExchangeRefusal::notification_parameter, "after");
  EXPECT_EQ(error.detail(), "Paramètre invalide.");
  ASSERT_EQ(error.errors().size(), 1u);
  EXPECT_EQ(error.errors()[0].field, "after");
  EXPECT_EQ(error.errors()[0].message, "doit être un entier positif");
}

}  // namespace
}  // namespace maillon::testing
