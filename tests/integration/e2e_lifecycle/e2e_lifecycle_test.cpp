// The members lifecycle end to end through the gateway (MAILLON_TEST_GATEWAY_URL), with every
// service running: approval and the joining bonus, suspension felt by every service at once,
// staff removal, community administrators kept to their community, members registered at the
// desk, reports hiding a listing, the export of every service's data, erasure and lent objects.
#include <gtest/gtest.h>

#include <chrono>

#include "e2e/e2e_suite.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

constexpr int64_t kBonus = 120;

class E2eLifecycleTest : public E2eSuite {
 protected:
  static Json policy(const std::string& membership) {
    return {{"membership", membership},
            {"signup_bonus", kBonus},
            {"min_balance", 0},
            {"monthly_allowance", 0}};
  }
  static MemberInfo staff_of(const GatewayCommunity& c, const std::string& name) {
    MemberInfo m = gateway->member(c, name);
    gateway->make_staff(c, m);
    return m;
  }
  // A neighbour without e-mail registered by `desk` at the community's site, with a phone.
  static HttpResult register_at_desk(const MemberInfo& desk, const GatewayCommunity& c,
                                     const std::string& name, const std::string& phone) {
    return as(desk).post("/v1/members",
                         {{"display_name", name}, {"home_site_id", c.site}, {"phone", phone}});
  }
  static MemberInfo relogged(const MemberInfo& m) {
    auto r = login(m);
    EXPECT_EQ(r.status, 200) << r.body;
    return {m.id, r.json().value("token", ""), m.email};
  }
  // The ledger opens the account from member.registered: 200 once it has.
  static bool account_opened(const Client& as_member, const std::string& id) {
    return poll_until([&] { return as_member.get("/v1/ledger/accounts/" + id).status == 200; });
  }
  static std::string offer(const Client& owner) {
    auto r = owner.post("/v1/offers", {{"kind", "service"},
                                       {"mode", "service"},
                                       {"category", "aide-aux-devoirs"},
                                       {"title", "Aide aux devoirs de maths"},
                                       {"duration_minutes", 60},
                                       {"price_minutes", 30},
                                       {"location", {{"lat", 50.63}, {"lon", 3.07}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  static Client community_admin_of(const GatewayCommunity& c, const std::string& name) {
    MemberInfo m = gateway->member(c, name);
    auto r = admin().post("/v1/communities/" + c.id + "/admins", {{"member_id", m.id}});
    EXPECT_EQ(r.status, 204) << r.body;
    return as(m);
  }
};

TEST_F(E2eLifecycleTest, an_approval_community_pays_the_bonus_and_opens_exchanges_on_approval) {
  const auto c = gateway->community("Roubaix", policy("approval"));
  MemberInfo desk = staff_of(c, "paule"), provider = gateway->member(c, "paul"),
             newcomer = gateway->member(c, "noemie");
  for (const auto* m : {&desk, &provider}) {
    auto approved = admin().post("/v1/members/" + m->id + "/approve");
    ASSERT_EQ(approved.status, 200) << approved.body;
  }
  EXPECT_EQ(as(newcomer).get("/v1/me").json()["status"], "pending");
  ASSERT_TRUE(account_opened(as(newcomer), newcomer.id));
  ASSERT_TRUE(
      poll_until([&] { return ledger_balance(as(provider), provider.id).balance == kBonus; }));
  EXPECT_EQ(ledger_balance(as(newcomer), newcomer.id).balance, 0);

  const std::string offer_id = offer(as(provider));
  auto refused = propose(newcomer, {{"offer_id", offer_id}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "membership-pending");

  EXPECT_EQ(as(provider).post("/v1/members/" + newcomer.id + "/approve").status, 403);
  auto approved = as(desk).post("/v1/members/" + newcomer.id + "/approve");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.json()["status"], "active");
  EXPECT_TRUE(poll_until([&] {
    return ledger_balance(as(newcomer), newcomer.id).balance == kBonus;
  })) << ledger_balance(as(newcomer), newcomer.id);
  auto proposed = propose(newcomer, {{"offer_id", offer_id}});
  EXPECT_EQ(proposed.status, 201) << proposed.body;
  // Approving again pays nothing more.
  EXPECT_EQ(as(desk).post("/v1/members/" + newcomer.id + "/approve").status, 200);
  EXPECT_EQ(ledger_balance(as(newcomer), newcomer.id).balance, kBonus);
}

TEST_F(E2eLifecycleTest, a_suspended_member_is_out_of_every_service_at_once_until_reinstated) {
  const auto c = gateway->community("Fives", policy("open"));
  MemberInfo desk = staff_of(c, "sacha"), member = gateway->member(c, "suzanne"),
             neighbour = gateway->member(c, "victor");
  ASSERT_TRUE(poll_until([&] { return ledger_balance(as(member), member.id).balance == kBonus; }));
  ASSERT_TRUE(
      poll_until([&] { return ledger_balance(as(neighbour), neighbour.id).balance == kBonus; }));
  const std::string offer_id = offer(as(member));
  ASSERT_EQ(as(neighbour).get("/v1/offers/" + offer_id).status, 200);
  // An exchange the member pays for, accepted: its hold is on the member's account.
  auto proposed = propose(member, {{"offer_id", offer(as(neighbour))}});
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string exchange = proposed.json()["id"];
  ASSERT_EQ(as(neighbour).post("/v1/exchanges/" + exchange + "/accept").status, 202);
  auto state = [&] {
    return as(neighbour).get("/v1/exchanges/" + exchange).json().value("state", "");
  };
  ASSERT_TRUE(poll_until([&] { return state() == "accepted"; })) << state();
  ASSERT_TRUE(poll_until([&] { return ledger_balance(as(desk), member.id).pending_debit == 30; }))
      << ledger_balance(as(desk), member.id);

  auto s = as(desk).post("/v1/members/" + member.id + "/suspend", {{"reason", "Incivilités"}});
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(as(member).get("/v1/ledger/accounts/" + member.id).status, 401);
  EXPECT_EQ(as(member).get("/v1/offers").status, 401);
  EXPECT_EQ(as(member).get("/v1/me").status, 401);
  auto refused = login(member);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "suspended");
  EXPECT_TRUE(poll_until([&] { return as(neighbour).get("/v1/offers/" + offer_id).status == 404; }))
      << "the suspended member's offer stays visible";
  EXPECT_TRUE(poll_until([&] { return state() == "cancelled"; })) << state();
  EXPECT_TRUE(poll_until([&] {
    return ledger_balance(as(desk), member.id) == LedgerBalance{kBonus, 0, 0, kBonus};
  })) << "the hold of the cancelled exchange stays: "
      << ledger_balance(as(desk), member.id);

  auto back = as(desk).post("/v1/members/" + member.id + "/reinstate");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.json()["status"], "active");
  MemberInfo again = relogged(member);
  EXPECT_EQ(as(again).get("/v1/ledger/accounts/" + member.id).status, 200);
  EXPECT_TRUE(poll_until([&] { return as(neighbour).get("/v1/offers/" + offer_id).status == 200; }))
      << "the reinstated member's offer stays hidden";
}

TEST_F(E2eLifecycleTest, removing_staff_ends_their_desk_access_at_once) {
  const auto c = gateway->community("Wazemmes", policy("open"));
  MemberInfo desk = staff_of(c, "remi"), member = gateway->member(c, "rose");
  Client cadmin = community_admin_of(c, "carole");
  ASSERT_TRUE(account_opened(as(member), member.id));
  const std::string desk_path = "/v1/sites/" + c.site + "/desk";
  ASSERT_EQ(as(desk).get(desk_path).status, 200);
  ASSERT_EQ(as(desk).acting_for(member.id).get("/v1/ledger/accounts/" + member.id).status, 200);

  auto removed = cadmin.del("/v1/sites/" + c.site + "/staff/" + desk.id);
  ASSERT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(as(desk).get(desk_path).status, 401);
  EXPECT_EQ(as(desk).acting_for(member.id).get("/v1/ledger/accounts/" + member.id).status, 401);
  MemberInfo plain = relogged(desk);
  EXPECT_EQ(as(plain).get(desk_path).status, 403);
  EXPECT_EQ(as(plain).acting_for(member.id).get("/v1/ledger/accounts/" + member.id).status, 403);
}

TEST_F(E2eLifecycleTest, a_community_admin_of_one_community_cannot_touch_another) {
  const auto a = gateway->community("Arras", policy("approval"));
  const auto b = gateway->community("Bapaume", policy("approval"));
  Client cadmin = community_admin_of(a, "alain");
  MemberInfo in_a = gateway->member(a, "amelie"), in_b = gateway->member(b, "bruno");
  // The web UI shows the administration and the federation links from this list.
  EXPECT_EQ(cadmin.get("/v1/me").json()["admin_community_ids"], Json::array({a.id}));
  EXPECT_EQ(as(in_a).get("/v1/me").json()["admin_community_ids"], Json::array());
  const Json site = {{"name", "Annexe"},
                     {"kind", "tiers_lieu"},
                     {"location", {{"lat", 50.29}, {"lon", 2.78}}},
                     {"address", "Grand-Place"}};
  Json site_a = site, site_b = site;
  site_a["community_id"] = a.id;
  site_b["community_id"] = b.id;

  EXPECT_EQ(cadmin.post("/v1/sites", site_b).status, 403);
  EXPECT_EQ(cadmin.post("/v1/sites/" + b.site + "/staff", {{"member_id", in_b.id}}).status, 403);
  EXPECT_EQ(cadmin.post("/v1/members/" + in_b.id + "/approve").status, 404);
  EXPECT_EQ(cadmin.post("/v1/members/" + in_b.id + "/suspend", {{"reason", "x"}}).status, 404);
  EXPECT_EQ(cadmin.get("/v1/sites/" + b.site + "/reports").status, 404);
  EXPECT_EQ(cadmin.post("/v1/communities/" + b.id + "/admins", {{"member_id", in_b.id}}).status,
            403);
  EXPECT_EQ(as(in_b).get("/v1/me").json()["status"], "pending");

  EXPECT_EQ(cadmin.post("/v1/sites", site_a).status, 201);
  EXPECT_EQ(cadmin.post("/v1/members/" + in_a.id + "/approve").status, 200);
  EXPECT_EQ(cadmin.post("/v1/sites/" + a.site + "/staff", {{"member_id", in_a.id}}).status, 204);
  // The desk is not theirs: reports and desk registration are for staff of the site.
  EXPECT_EQ(cadmin.get("/v1/sites/" + a.site + "/reports").status, 403);
  EXPECT_EQ(
      cadmin.post("/v1/members", {{"display_name", "Xavier"}, {"home_site_id", a.site}}).status,
      403);
}

TEST_F(E2eLifecycleTest, staff_register_a_member_at_the_desk_and_serve_them_by_acting_for) {
  const auto c = gateway->community("Hellemmes", policy("approval"));
  MemberInfo desk = staff_of(c, "dora"), member = gateway->member(c, "marc");
  auto r = register_at_desk(desk, c, "Georgette", "0612345678");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  EXPECT_GT(r.json()["member_number"].get<int>(), 0);
  EXPECT_EQ(
      as(member).post("/v1/members", {{"display_name", "X"}, {"home_site_id", c.site}}).status,
      403);
  EXPECT_EQ(gateway->admin()
                .post("/v1/members", {{"display_name", "X"}, {"home_site_id", c.site}})
                .status,
            403);
  auto two_lines = as(desk).wrong().post(
      "/v1/members",
      {{"display_name", "Georges\nRappel : payez au 08 99"}, {"home_site_id", c.site}});
  EXPECT_EQ(two_lines.status, 400) << two_lines.body;
  // Acting for a member, staff keep their own desk.
  EXPECT_EQ(as(desk)
                .acting_for(member.id)
                .post("/v1/members", {{"display_name", "Gisèle"}, {"home_site_id", c.site}})
                .status,
            201);

  // Met in person: active at once, and the ledger pays the bonus.
  Client for_her = as(desk).acting_for(id);
  EXPECT_TRUE(poll_until([&] { return ledger_balance(for_her, id).balance == kBonus; }))
      << ledger_balance(for_her, id);
  const std::string offer_id = offer(for_her);
  auto listed = as(desk).get("/v1/offers/" + offer_id);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json().value("member_id", ""), id);
  auto found =
      as(desk).get("/v1/members?q=" + std::to_string(r.json()["member_number"].get<int>()));
  ASSERT_EQ(found.status, 200) << found.body;
  // The number also matches other members whose e-mail holds that digit (the search looks in
  // names and e-mails too): the registered member is among the answers, not necessarily first.
  bool listed_by_number = false;
  const Json answers = found.json()["items"];
  for (const auto& m : answers) listed_by_number |= m.value("id", "") == id;
  EXPECT_TRUE(listed_by_number) << found.body;
}

TEST_F(E2eLifecycleTest, a_member_without_a_password_is_erased_at_the_desk_with_their_consent) {
  const auto c = gateway->community("Lambersart", policy("open"));
  MemberInfo desk = staff_of(c, "ines"), other = gateway->member(c, "olga");
  auto r = register_at_desk(desk, c, "Raymonde Leclercq", "0687654321");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  const Client for_her = as(desk).acting_for(id);

  // No password to give: the desk says she agreed, or nothing happens.
  auto unconfirmed = for_her.wrong().call("DELETE", "/v1/me", Json{{"password", "x"}}.dump());
  EXPECT_EQ(unconfirmed.status, 400) << unconfirmed.body;
  EXPECT_EQ(unconfirmed.json()["errors"][0]["field"], "confirm") << unconfirmed.body;
  EXPECT_EQ(for_her.get("/v1/me").status, 200);
  // A member with a password still confirms with it, whatever the desk says.
  auto without_password =
      as(other).wrong().call("DELETE", "/v1/me", Json{{"confirm", true}}.dump());
  EXPECT_EQ(without_password.status, 400) << without_password.body;
  EXPECT_EQ(as(other).get("/v1/me").status, 200);

  auto erased = for_her.call("DELETE", "/v1/me", Json{{"confirm", true}}.dump());
  ASSERT_EQ(erased.status, 202) << erased.body;
  auto found = as(desk).get("/v1/members?q=0687654321");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.body.find("Raymonde"), std::string::npos) << found.body;
}

TEST_F(E2eLifecycleTest, a_reported_listing_is_hidden_by_the_desk) {
  const auto c = gateway->community("Lomme", policy("open"));
  MemberInfo desk = staff_of(c, "armelle"), owner = gateway->member(c, "olivier"),
             reporter = gateway->member(c, "rita");
  const std::string offer_id = offer(as(owner));
  ASSERT_EQ(as(reporter).get("/v1/offers/" + offer_id).status, 200);

  auto filed = as(reporter).post(
      "/v1/reports", {{"target", "offer"}, {"target_id", offer_id}, {"reason", "Arnaque"}});
  ASSERT_EQ(filed.status, 201) << filed.body;
  const std::string report = filed.json()["id"];
  auto open = as(desk).get("/v1/sites/" + c.site + "/reports");
  ASSERT_EQ(open.status, 200) << open.body;
  ASSERT_FALSE(open.json()["items"].empty());
  EXPECT_EQ(open.json()["items"][0]["id"], report);
  EXPECT_EQ(as(reporter).get("/v1/sites/" + c.site + "/reports").status, 403);

  auto closed = as(desk).post("/v1/reports/" + report + "/close", {{"action", "hide"}});
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_TRUE(poll_until([&] { return as(reporter).get("/v1/offers/" + offer_id).status == 404; }))
      << "the hidden offer is still shown";
  EXPECT_TRUE(as(desk).get("/v1/sites/" + c.site + "/reports").json()["items"].empty());
}

TEST_F(E2eLifecycleTest, the_export_holds_each_service_part_and_erasure_waits_for_a_lent_object) {
  const auto c = gateway->community("Villeneuve", policy("open"), "objetotheque");
  MemberInfo desk = staff_of(c, "diane"), member = gateway->member(c, "eliane");
  ASSERT_TRUE(poll_until([&] { return ledger_balance(as(member), member.id).balance == kBonus; }));
  const std::string offer_id = offer(as(member));

  auto exported = as(member).get("/v1/me/export");
  ASSERT_EQ(exported.status, 200) << exported.body;
  const Json j = exported.json();
  for (const char* key :
       {"profile", "audit", "offers", "requests", "exchange", "ledger", "depot"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_FALSE(j[key].is_null()) << key << " publishes no member_export";
  }
  EXPECT_NE(j["offers"].dump().find(offer_id), std::string::npos) << j["offers"].dump();
  EXPECT_EQ(j["ledger"]["account"]["balance_minutes"], kBonus) << j["ledger"].dump();

  auto item = as(desk).post("/v1/sites/" + c.site + "/items", {{"category", "perceuses"},
                                                               {"title", "Perceuse"},
                                                               {"condition", "good"},
                                                               {"weight_g", 2000},
                                                               {"mode", "lend"}});
  ASSERT_EQ(item.status, 201) << item.body;
  const std::string item_id = item.json()["id"];
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto lent =
      as(desk).post("/v1/items/" + item_id + "/lend",
                    {{"member_id", member.id}, {"due_at", format_rfc3339(now_s + 7 * 86400)}});
  ASSERT_EQ(lent.status, 200) << lent.body;

  const std::string confirm = Json{{"password", "mot-de-passe-1"}}.dump();
  auto refused = as(member).call("DELETE", "/v1/me", confirm);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.json().value("code", ""), "open-loan");
  EXPECT_EQ(as(member).get("/v1/me").status, 200);

  ASSERT_EQ(as(desk).post("/v1/items/" + item_id + "/return", {{"condition", "good"}}).status, 200);
  auto erased = as(member).call("DELETE", "/v1/me", confirm);
  EXPECT_EQ(erased.status, 202) << erased.body;
  EXPECT_EQ(as(member).get("/v1/me").status, 401);
}

}  // namespace
}  // namespace maillon::testing
