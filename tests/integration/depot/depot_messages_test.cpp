// The depot's message table has a row for every code its domain and its routes return, so no
// refusal reaches a client as a logic_error (a 500).
#include <gtest/gtest.h>

#include "services/depot/messages.hpp"

namespace maillon::testing {
namespace {

using depot::DepotRefusal;

TEST(DepotMessages, every_refusal_of_the_domain_has_a_row) {
  for (int i = static_cast<int>(DepotOutcome::ok) + 1;
       i <= static_cast<int>(DepotOutcome::invalid_partner); ++i) {
    const ApiError error = depot::problem(static_cast<DepotOutcome>(i));
    EXPECT_FALSE(error.detail().empty()) << i;
    EXPECT_FALSE(error.code().empty()) << i;
  }
}

TEST(DepotMessages, every_refusal_of_the_routes_has_a_row) {
  for (int i = static_cast<int>(DepotRefusal::none) + 1;
       i <= static_cast<int>(depot::kLastDepotRefusal); ++i) {
    const ApiError error = depot::problem(static_cast<DepotRefusal>(i));
    EXPECT_FALSE(error.detail().empty()) << i;
    EXPECT_FALSE(error.code().empty()) << i;
  }
}

TEST(DepotMessages, a_member_named_by_staff_is_refused_on_its_field) {
  const ApiError error =
      depot::problem_on_field(DepotRefusal::unknown_member, "dropped_by_member_id");
  EXPECT_EQ(error.status(), 400);
  EXPECT_EQ(error.detail(), "Membre inconnu.");
  ASSERT_EQ(error.errors().size(), 1u);
  EXPECT_EQ(error.errors()[0].field, "dropped_by_member_id");
  EXPECT_EQ(error.errors()[0].message, "membre inconnu dans votre communauté");
}

}  // namespace
}  // namespace maillon::testing
