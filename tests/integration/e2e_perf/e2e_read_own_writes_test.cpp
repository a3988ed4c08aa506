// Read your own writes across services (issue 22), through the gateway: a proposal made the
// moment a listing is created is taken, whether or not the exchange service has read the
// listing's event yet (it asks the listing's owner when it has not heard of it). No retry: the
// first answer to each proposal is the one checked.
#include <gtest/gtest.h>

#include "e2e/e2e_suite.hpp"

namespace maillon::testing {
namespace {

class E2eReadOwnWritesTest : public E2eSuite {};

constexpr int kRounds = 50;

TEST_F(E2eReadOwnWritesTest, a_proposal_right_after_an_offer_is_never_refused_as_unknown) {
  const StaffedCommunity c = staffed_community("Wazemmes", "conciergerie");
  const MemberInfo provider = member(c, "odile"), receiver = member(c, "samir");
  for (int i = 0; i < kRounds; ++i) {
    auto posted = unless_busy([&] { return as(provider).post("/v1/offers", gift_offer(1)); });
    ASSERT_EQ(posted.status, 201) << posted.body;
    const std::string offer_id = posted.json()["id"];
    auto proposed = unless_busy([&] {
      return as(receiver).post("/v1/exchanges", {{"offer_id", offer_id}});
    });
    ASSERT_EQ(proposed.status, 201) << "round " << i << ": " << proposed.body;
    EXPECT_EQ(proposed.json()["provider_id"], provider.id);
    EXPECT_EQ(proposed.json()["receiver_id"], receiver.id);
    EXPECT_EQ(proposed.json()["minutes"], 1);
  }
}

TEST_F(E2eReadOwnWritesTest, an_unknown_offer_is_still_refused) {
  const StaffedCommunity c = staffed_community("Moulins", "conciergerie");
  const MemberInfo receiver = member(c, "jeanne");
  auto proposed = unless_busy([&] {
    return as(receiver).post("/v1/exchanges",
                             {{"offer_id", "7b0e4f3c-2f7c-4c55-9a51-1d7e0c2b9a10"}});
  });
  EXPECT_EQ(proposed.status, 422) << proposed.body;
  EXPECT_EQ(proposed.json().value("code", ""), "unknown-listing");
}

// An offer of another community is not made visible by asking its owner either.
TEST_F(E2eReadOwnWritesTest, an_offer_of_another_community_stays_unknown) {
  const StaffedCommunity here = staffed_community("Hellemmes", "conciergerie");
  const StaffedCommunity there = staffed_community("Lomme", "conciergerie");
  const MemberInfo stranger = member(there, "paul"), receiver = member(here, "lea");
  auto posted = unless_busy([&] { return as(stranger).post("/v1/offers", gift_offer(1)); });
  ASSERT_EQ(posted.status, 201) << posted.body;
  auto proposed = unless_busy([&] {
    return as(receiver).post("/v1/exchanges", {{"offer_id", posted.json()["id"]}});
  });
  EXPECT_EQ(proposed.status, 422) << proposed.body;
  EXPECT_EQ(proposed.json().value("code", ""), "unknown-listing");
}

}  // namespace
}  // namespace maillon::testing
