// The exchange workflow end to end through the nginx gateway, as a web client sees it: every call
// goes to MAILLON_TEST_GATEWAY_URL (script/test starts the whole stack behind it). Each scenario
// lives in its own community so that scenarios never see each other's members or listings.
#include <gtest/gtest.h>

#include "e2e_suite.hpp"

namespace maillon::testing {
namespace {

class E2eExchangeTest : public E2eSuite {
 protected:
  // One conciergerie and the staff member who runs its desk.
  static StaffedCommunity community(const std::string& name) {
    return staffed_community(name, "conciergerie");
  }
};

TEST_F(E2eExchangeTest, happy_path_moves_the_credits_once_both_parties_confirm) {
  const StaffedCommunity c = community("Fives");
  const MemberInfo provider = member(c, "karim"), receiver = member(c, "lucie");
  EXPECT_EQ(balance_of(provider), (Balance{120, 0, 0, 120}));
  EXPECT_EQ(balance_of(receiver), (Balance{120, 0, 0, 120}));

  // A good given for an hour's credits: its exchange closes it (an offered service stays open).
  auto posted = as(provider).post("/v1/offers", gift_offer(60));
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string offer_id = posted.json()["id"];
  auto created = propose(receiver, {{"offer_id", offer_id}, {"message", "Mercredi 17 h ?"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const Json proposal = created.json();
  EXPECT_EQ(proposal["state"], "proposed");
  EXPECT_EQ(proposal["provider_id"], provider.id);
  EXPECT_EQ(proposal["receiver_id"], receiver.id);
  EXPECT_EQ(proposal["minutes"], 60);
  const std::string id = proposal["id"];

  auto accepted = as(provider).post("/v1/exchanges/" + id + "/accept");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  ASSERT_TRUE(state_becomes(receiver, id, "accepted")) << state_of(receiver, id);
  EXPECT_TRUE(balance_becomes(receiver, {120, 60, 0, 60})) << balance_of(receiver);
  EXPECT_TRUE(balance_becomes(provider, {120, 0, 60, 120})) << balance_of(provider);

  auto first = as(provider).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["state"], "accepted");  // the receiver has not confirmed yet
  auto second = as(receiver).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["state"], "completing");  // completed once the ledger has posted
  EXPECT_TRUE(state_becomes(receiver, id, "completed")) << state_of(receiver, id);

  EXPECT_TRUE(balance_becomes(receiver, {60, 0, 0, 60})) << balance_of(receiver);
  EXPECT_TRUE(balance_becomes(provider, {180, 0, 0, 180})) << balance_of(provider);
  EXPECT_TRUE(poll_until([&] {
    return as(provider).get("/v1/offers/" + offer_id).json().value("status", "") == "closed";
  }));
}

TEST_F(E2eExchangeTest, insufficient_credits_send_the_exchange_back_to_proposed) {
  const StaffedCommunity c = community("Roubaix");
  const MemberInfo provider = member(c, "marc"), receiver = member(c, "ines");
  auto created = propose(receiver, {{"offer_id", offer(provider, 60)}, {"minutes", 500}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  ASSERT_EQ(as(provider).post("/v1/exchanges/" + id + "/accept").status, 202);

  ASSERT_TRUE(state_becomes(provider, id, "proposed")) << state_of(provider, id);
  const Json back = as(receiver).get("/v1/exchanges/" + id).json();
  EXPECT_EQ(back["reason"], "insufficient-credits");
  EXPECT_EQ(balance_of(receiver), (Balance{120, 0, 0, 120}));
  EXPECT_EQ(balance_of(provider), (Balance{120, 0, 0, 120}));
}

TEST_F(E2eExchangeTest, cancel_after_accept_returns_the_held_credits) {
  const StaffedCommunity c = community("Tourcoing");
  const MemberInfo provider = member(c, "yanis"), receiver = member(c, "chloe");
  const std::string id = accepted_exchange(provider, receiver, 45);
  ASSERT_TRUE(balance_becomes(receiver, {120, 45, 0, 75})) << balance_of(receiver);

  auto cancelled = as(receiver).post("/v1/exchanges/" + id + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["state"], "cancelled");
  EXPECT_TRUE(balance_becomes(receiver, {120, 0, 0, 120})) << balance_of(receiver);
  EXPECT_TRUE(balance_becomes(provider, {120, 0, 0, 120})) << balance_of(provider);
  EXPECT_EQ(as(provider).post("/v1/exchanges/" + id + "/complete").status, 409);
}

// A given object goes to one exchange at a time (issue 21): a second accept while the first
// runs answers 409 listing-reserved, in French, and the proposal may be accepted once the first
// is cancelled.
TEST_F(E2eExchangeTest, a_given_object_is_accepted_for_one_exchange_at_a_time) {
  const StaffedCommunity c = community("Lomme");
  const MemberInfo giver = member(c, "solene"), first_taker = member(c, "hugo"),
                   second_taker = member(c, "ines");
  auto posted = as(giver).post("/v1/offers", gift_offer(10));
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string offer_id = posted.json()["id"];
  auto first = propose(first_taker, {{"offer_id", offer_id}});
  auto second = propose(second_taker, {{"offer_id", offer_id}});
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(second.status, 201) << second.body;
  const std::string first_id = first.json()["id"], second_id = second.json()["id"];

  ASSERT_EQ(as(giver).post("/v1/exchanges/" + first_id + "/accept").status, 202);
  auto refused = as(giver).post("/v1/exchanges/" + second_id + "/accept");
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.json()["code"], "listing-reserved");
  EXPECT_NE(refused.json().value("detail", "").find("déjà réservée"), std::string::npos)
      << refused.body;
  EXPECT_EQ(state_of(giver, second_id), "proposed");

  ASSERT_TRUE(state_becomes(giver, first_id, "accepted")) << state_of(giver, first_id);
  ASSERT_EQ(as(first_taker).post("/v1/exchanges/" + first_id + "/cancel").status, 200);
  auto offer_status = [&] {
    return as(giver).get("/v1/offers/" + offer_id).json().value("status", "");
  };
  ASSERT_TRUE(poll_until([&] { return offer_status() == "active"; })) << offer_status();
  auto served = as(giver).post("/v1/exchanges/" + second_id + "/accept");
  ASSERT_EQ(served.status, 202) << served.body;
  EXPECT_TRUE(state_becomes(giver, second_id, "accepted")) << state_of(giver, second_id);
  EXPECT_TRUE(poll_until([&] { return offer_status() == "reserved"; })) << offer_status();
}

TEST_F(E2eExchangeTest, dispute_resolved_partially_by_staff_pays_the_agreed_part) {
  const StaffedCommunity c = community("Wazemmes");
  const MemberInfo provider = member(c, "sami"), receiver = member(c, "elodie");
  const std::string id = accepted_exchange(provider, receiver, 60, c.site);
  auto disputed = as(receiver).post("/v1/exchanges/" + id + "/dispute");
  ASSERT_EQ(disputed.status, 200) << disputed.body;
  EXPECT_EQ(disputed.json()["state"], "disputed");

  auto desk = as(c.staff).get("/v1/sites/" + c.site + "/desk");
  ASSERT_EQ(desk.status, 200) << desk.body;
  const Json sections = desk.json();
  bool on_desk = false;
  for (const auto& e : sections["disputed"]) on_desk = on_desk || e["id"] == id;
  EXPECT_TRUE(on_desk) << sections.dump();

  EXPECT_EQ(as(receiver).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "post"}}).status,
            403);
  auto resolved = as(c.staff).post("/v1/exchanges/" + id + "/resolve",
                                   {{"outcome", "partial"}, {"minutes", 20}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(resolved.json()["state"], "resolved");
  EXPECT_EQ(resolved.json()["history"].back()["actor_id"], c.staff.id);
  EXPECT_TRUE(balance_becomes(receiver, {100, 0, 0, 100})) << balance_of(receiver);
  EXPECT_TRUE(balance_becomes(provider, {140, 0, 0, 140})) << balance_of(provider);
}

TEST_F(E2eExchangeTest, another_member_can_neither_see_nor_act_on_the_exchange) {
  const StaffedCommunity c = community("Lomme");
  const MemberInfo provider = member(c, "paul"), receiver = member(c, "zoe");
  const MemberInfo stranger = member(c, "tom");
  auto created = propose(receiver, {{"offer_id", offer(provider, 30)}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];

  EXPECT_EQ(as(stranger).get("/v1/exchanges/" + id).status, 404);
  EXPECT_EQ(as(stranger).get("/v1/exchanges/" + id + "/messages").status, 404);
  // Each action with the body its operation documents: only the caller is wrong.
  const std::pair<const char*, Json> actions[] = {
      {"accept", Json::object()},          {"decline", Json::object()},
      {"cancel", Json::object()},          {"complete", Json::object()},
      {"dispute", {{"reason", "coucou"}}}, {"messages", {{"body", "coucou"}}}};
  for (const auto& [action, body] : actions) {
    EXPECT_EQ(as(stranger).post("/v1/exchanges/" + id + "/" + action, body).status, 404) << action;
  }
  EXPECT_TRUE(as(stranger).get("/v1/exchanges").json()["items"].empty());
  EXPECT_EQ(state_of(receiver, id), "proposed");
  EXPECT_EQ(balance_of(receiver), (Balance{120, 0, 0, 120}));
}

}  // namespace
}  // namespace maillon::testing
