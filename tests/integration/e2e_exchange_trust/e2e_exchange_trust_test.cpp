// Trust in exchanges end to end through the nginx gateway (MAILLON_TEST_GATEWAY_URL): a party
// never judges its own dispute, even as staff of the site; disputes keep their reason and
// resolutions their note; an exchange reads `completed` only once the ledger has paid the
// provider, whom the payer cannot deprive of the hold; a suspended member's open exchanges are
// cancelled with their holds voided; a dispute between neighbours (no site) waits at the
// proposer's home desk, whose staff settle it. Each scenario lives in its own community.
#include <gtest/gtest.h>

#include "e2e/e2e_suite.hpp"

namespace maillon::testing {
namespace {

// One conciergerie with two staff members at its desk.
struct Community : StaffedCommunity {
  MemberInfo other_staff;
};

class E2eExchangeTrustTest : public E2eSuite {
 protected:
  static Community community(const std::string& name) {
    Community out{staffed_community(name, "conciergerie"), {}};
    out.other_staff = member(out, "bruno");
    gateway->make_staff(out, out.other_staff);
    return out;
  }

  static std::string offer_status(const MemberInfo& owner, const std::string& id) {
    return as(owner).get("/v1/offers/" + id).json().value("status", "");
  }

  static std::string code_of(const HttpResult& r) { return r.json().value("code", ""); }
};

TEST_F(E2eExchangeTrustTest, a_party_never_resolves_its_own_dispute_even_as_staff) {
  const Community c = community("Fives");
  const MemberInfo provider = member(c, "karim");
  // nadia runs the desk and is the receiver of this exchange.
  std::string offer_id;
  const std::string id = accepted_exchange(provider, c.staff, 60, c.site, &offer_id);
  auto disputed = as(c.staff).post("/v1/exchanges/" + id + "/dispute",
                                   {{"reason", "Le cours n'a duré que vingt minutes."}});
  ASSERT_EQ(disputed.status, 200) << disputed.body;
  EXPECT_EQ(disputed.json()["state"], "disputed");

  for (const Client& judge : {as(c.staff), as(c.staff).acting_for(provider.id),
                              as(c.other_staff).acting_for(provider.id)}) {
    auto r = judge.post("/v1/exchanges/" + id + "/resolve", {{"outcome", "post"}});
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(code_of(r), "party-to-exchange") << r.body;
  }
  for (const char* outcome : {"pay", "", "Post"}) {
    auto r =
        as(c.other_staff).wrong().post("/v1/exchanges/" + id + "/resolve", {{"outcome", outcome}});
    EXPECT_EQ(r.status, 400) << outcome << ": " << r.body;
  }
  EXPECT_EQ(exchange_of(provider, id)["state"], "disputed");
  EXPECT_EQ(balance_of(provider), (Balance{120, 0, 60, 120}));  // nothing moved meanwhile

  auto resolved = as(c.other_staff)
                      .post("/v1/exchanges/" + id + "/resolve",
                            {{"outcome", "partial"},
                             {"minutes", 20},
                             {"note", "Vingt minutes de cours, vu avec les deux."}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  const Json done = exchange_of(provider, id);
  EXPECT_EQ(done["state"], "resolved");
  EXPECT_EQ(done["dispute_reason"], "Le cours n'a duré que vingt minutes.");
  EXPECT_EQ(done["resolution"]["outcome"], "partial");
  EXPECT_EQ(done["resolution"]["note"], "Vingt minutes de cours, vu avec les deux.");
  EXPECT_EQ(done["history"].back()["comment"], "Vingt minutes de cours, vu avec les deux.");
  EXPECT_EQ(done["history"].back()["actor_id"], c.other_staff.id);
  EXPECT_TRUE(poll_until([&] {
    return balance_of(provider) == Balance{140, 0, 0, 140};
  })) << balance_of(provider);
  // An offered service stays open to others once an exchange on it is settled (issue #19).
  EXPECT_EQ(offer_status(provider, offer_id), "active");
}

TEST_F(E2eExchangeTrustTest, completed_only_once_the_ledger_paid_the_provider_in_full) {
  const Community c = community("Roubaix");
  const MemberInfo provider = member(c, "marc"), receiver = member(c, "ines");
  const std::string id = accepted_exchange(provider, receiver, 45, c.site);
  const std::string hold = exchange_of(receiver, id)["transfer_id"];
  // The payer tries to take the hold back, or to pay one minute of it: the saga owns it.
  auto voided = as(receiver).post("/v1/ledger/transfers/" + hold + "/void");
  EXPECT_EQ(voided.status, 403) << voided.body;
  auto one_minute = as(receiver).post("/v1/ledger/transfers/" + hold + "/post", {{"minutes", 1}});
  EXPECT_EQ(one_minute.status, 403) << one_minute.body;

  ASSERT_EQ(as(provider).post("/v1/exchanges/" + id + "/complete").status, 200);
  auto second = as(receiver).post("/v1/exchanges/" + id + "/complete");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["state"], "completing");
  ASSERT_TRUE(state_becomes(receiver, id, "completed")) << exchange_of(receiver, id).dump();
  // Read once, without waiting: the state says completed, so the credits have moved.
  EXPECT_EQ(balance_of(provider), (Balance{165, 0, 0, 165}));
  EXPECT_EQ(balance_of(receiver), (Balance{75, 0, 0, 75}));
  const Json done = exchange_of(receiver, id);
  std::vector<std::string> states;
  for (const auto& h : done.value("history", Json::array())) states.push_back(h["state"]);
  ASSERT_GE(states.size(), 2u) << done.dump();
  EXPECT_EQ(states[states.size() - 2], "completing");
}

TEST_F(E2eExchangeTrustTest, a_suspended_member_s_open_exchanges_are_cancelled_and_holds_voided) {
  const Community c = community("Tourcoing");
  const MemberInfo leaving = member(c, "yanis"), provider = member(c, "chloe");
  std::string offer_id;
  const std::string id = accepted_exchange(provider, leaving, 30, c.site, &offer_id);
  ASSERT_TRUE(poll_until([&] { return balance_of(leaving) == Balance{120, 30, 0, 90}; }));

  auto suspended =
      as(c.staff).post("/v1/members/" + leaving.id + "/suspend", {{"reason", "Incivilités"}});
  ASSERT_EQ(suspended.status, 200) << suspended.body;

  ASSERT_TRUE(state_becomes(provider, id, "cancelled")) << exchange_of(provider, id).dump();
  const Json cancelled = exchange_of(provider, id);
  EXPECT_EQ(cancelled["reason"], "member-suspended");
  EXPECT_TRUE(cancelled["history"].back()["actor_id"].is_null());
  EXPECT_TRUE(poll_until([&] { return offer_status(provider, offer_id) == "active"; }));
  // The hold is voided: the suspended member's credits are whole again (read by staff).
  EXPECT_TRUE(poll_until([&] {
    return ledger_balance(as(c.staff), leaving.id) == Balance{120, 0, 0, 120};
  })) << ledger_balance(as(c.staff), leaving.id);
}

TEST_F(E2eExchangeTrustTest, a_dispute_between_neighbours_waits_at_the_proposer_s_home_desk) {
  // No site named, none on the offer: the staff of the proposer's home site settle what the
  // parties cannot; before, nobody could, and the receiver's credits stayed held for good.
  const Community c = community("Lomme");
  auto second = admin().post("/v1/sites", {{"community_id", c.id},
                                           {"name", "Deuxième lieu"},
                                           {"kind", "tiers_lieu"},
                                           {"location", {{"lat", 50.64}, {"lon", 3.0}}},
                                           {"address", "Lomme, Hauts-de-France"}});
  ASSERT_EQ(second.status, 201) << second.body;
  GatewayCommunity there = c;
  there.site = second.json().value("id", "");
  const MemberInfo provider = member(c, "karim");    // home: the first site
  const MemberInfo receiver = member(there, "lea");  // home: the second site, proposes
  const MemberInfo desk = member(there, "sami");
  gateway->make_staff(there, desk);

  const std::string id = accepted_exchange(provider, receiver, 30);
  EXPECT_TRUE(exchange_of(provider, id)["site_id"].is_null());
  ASSERT_TRUE(balance_becomes(receiver, Balance{120, 30, 0, 90}));
  auto disputed =
      as(provider).post("/v1/exchanges/" + id + "/dispute", {{"reason", "Personne n'est venu."}});
  ASSERT_EQ(disputed.status, 200) << disputed.body;

  const auto disputes_at = [&](const MemberInfo& staff, const std::string& site) {
    Json ids = Json::array();
    auto r = unless_busy([&] { return as(staff).get("/v1/sites/" + site + "/desk"); });
    EXPECT_EQ(r.status, 200) << r.body;
    for (const auto& x : r.json().value("disputed", Json::array())) ids.push_back(x["id"]);
    return ids;
  };
  EXPECT_EQ(disputes_at(desk, there.site), Json::array({id}));
  EXPECT_EQ(disputes_at(c.staff, c.site), Json::array());
  // Staff of another site neither see nor settle it.
  auto elsewhere = as(c.staff).post("/v1/exchanges/" + id + "/resolve", {{"outcome", "post"}});
  EXPECT_EQ(elsewhere.status, 404) << elsewhere.body;
  EXPECT_EQ(as(c.staff).get("/v1/exchanges/" + id).status, 404);

  auto resolved = as(desk).post("/v1/exchanges/" + id + "/resolve",
                                {{"outcome", "void"}, {"note", "Vu avec les deux."}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(exchange_of(receiver, id)["state"], "resolved");
  EXPECT_TRUE(balance_becomes(receiver, Balance{120, 0, 0, 120})) << balance_of(receiver);
  EXPECT_EQ(balance_of(provider), (Balance{120, 0, 0, 120}));
}

}  // namespace
}  // namespace maillon::testing
