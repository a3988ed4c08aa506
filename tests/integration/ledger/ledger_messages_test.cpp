// The ledger's message table has a row for every code its domain and its use cases return, so
// no refusal reaches a client as a logic_error (a 500).
#include <gtest/gtest.h>

#include "services/ledger/messages.hpp"

namespace maillon::testing {
namespace {

using ledger::LedgerRefusal;

TEST(LedgerMessages, every_refusal_of_the_ledger_has_a_row) {
  for (int i = static_cast<int>(LedgerOutcome::ok);
       i <= static_cast<int>(LedgerOutcome::exceeds_pending); ++i) {
    const auto outcome = static_cast<LedgerOutcome>(i);
    if (is_accepted(outcome)) continue;  // ok and exists answer the transfer, not a problem
    const ApiError error = ledger::problem(outcome);
    EXPECT_FALSE(error.detail().empty()) << to_string(outcome);
    if (error.status() != 400) {
      EXPECT_EQ(error.code(), to_string(outcome));
    }
  }
}

TEST(LedgerMessages, every_refusal_of_the_use_cases_has_a_row) {
  for (int i = static_cast<int>(LedgerRefusal::none) + 1;
       i <= static_cast<int>(ledger::kLastLedgerRefusal); ++i) {
    const ApiError error = ledger::problem(static_cast<LedgerRefusal>(i));
    EXPECT_FALSE(error.detail().empty()) << i;
    EXPECT_FALSE(error.code().empty()) << i;
  }
}

TEST(LedgerMessages, a_field_refusal_names_its_field) {
  const ApiError error = ledger::problem(LedgerOutcome::invalid_memo);
  EXPECT_EQ(error.status(), 400);
  EXPECT_EQ(error.code(), "invalid-input");
  EXPECT_EQ(error.detail(), "Transfert invalide.");
  ASSERT_EQ(error.errors().size(), 1u);
  EXPECT_EQ(error.errors()[0].field, "memo");
}

}  // namespace
}  // namespace maillon::testing
