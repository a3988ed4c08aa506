// The depot's routes as an attacker would try them (services/depot/http_items.cpp): whose ids an
// item shows to whom, staff rights limited to their own site, deposit rewards never granted by
// staff to themselves, members named by staff taken from the item's community only; and the
// published functions depot.member_export and depot.member_open_loans on real data.
#include <gtest/gtest.h>

#include <map>
#include <pqxx/pqxx>

#include "depot/depot_world.hpp"

namespace maillon::testing {
namespace {

Json lend_body(const std::string& member_id, int64_t due_at_s) {
  return {{"member_id", member_id}, {"due_at", rfc3339(due_at_s)}};
}

std::string relogin(const MembersWorld& world, const MemberInfo& m) {
  auto r = http_request(world.members->url(), "POST", "/v1/auth/login",
                        Json{{"email", m.email}, {"password", "mot-de-passe-1"}}.dump());
  return r.json()["token"];
}

TEST(DepotTrust, a_member_sees_their_own_part_of_an_item_and_no_one_elses) {
  DepotWorld w("people");
  MemberInfo alice = w.member("Alice"), bob = w.member("Bob"), carol = w.member("Carole");
  const std::string item = w.intake("give", 1200, alice.id);
  const std::string tool = w.intake("lend", 2000, alice.id);
  ASSERT_EQ(
      w.desk().post("/v1/items/" + tool + "/lend", lend_body(bob.id, w.clock_s + kDayS)).status,
      200);
  ASSERT_EQ(w.desk().post("/v1/items/" + tool + "/return", {{"condition", "good"}}).status, 200);

  // Carole reserves: her answer names her, not the depositor.
  auto reserved = w.as(carol).post("/v1/items/" + item + "/reserve");
  ASSERT_EQ(reserved.status, 200) << reserved.body;
  EXPECT_EQ(reserved.json()["reserved_by_member_id"], carol.id);
  EXPECT_FALSE(reserved.json().contains("dropped_by_member_id")) << reserved.body;
  // Bob's loan of the tool is Bob's: neither Carole reserving it nor Alice who dropped it see him.
  auto tool_reserved = w.as(carol).post("/v1/items/" + tool + "/reserve");
  ASSERT_EQ(tool_reserved.status, 200) << tool_reserved.body;
  EXPECT_FALSE(tool_reserved.json().contains("loan")) << tool_reserved.body;
  const Json seen_by_alice = w.as(alice).get("/v1/items/" + tool).json();
  EXPECT_EQ(seen_by_alice["dropped_by_member_id"], alice.id);
  EXPECT_FALSE(seen_by_alice.contains("loan"));
  EXPECT_FALSE(seen_by_alice.contains("reserved_by_member_id"));
  const Json seen_by_bob = w.as(bob).get("/v1/items/" + tool).json();
  EXPECT_EQ(seen_by_bob["loan"]["member_id"], bob.id);
  EXPECT_FALSE(seen_by_bob.contains("dropped_by_member_id"));
  const std::string anonymous = Client(w.depot->url()).get("/v1/items/" + tool).body;
  for (const MemberInfo* m : {&alice, &bob, &carol}) {
    EXPECT_EQ(anonymous.find(m->id), std::string::npos);
  }
  const std::string shelf = w.as(bob).get("/v1/sites/" + w.site + "/items").body;
  EXPECT_EQ(shelf.find(alice.id), std::string::npos);
  EXPECT_EQ(shelf.find(carol.id), std::string::npos);
  // Staff of the site see everyone.
  const Json desk = w.desk().get("/v1/items/" + tool).json();
  EXPECT_EQ(desk["dropped_by_member_id"], alice.id);
  EXPECT_EQ(desk["loan"]["member_id"], bob.id);
  EXPECT_EQ(desk["reserved_by_member_id"], carol.id);
}

TEST(DepotTrust, staff_never_grant_themselves_a_deposit_reward) {
  DepotWorld w("self reward", {{"deposit_reward", 60}});
  MemberInfo alice = w.member("Alice");
  Json own = {{"category", "perceuses"}, {"title", "Ma perceuse"},
              {"condition", "good"},     {"weight_g", 1500},
              {"mode", "give"},          {"dropped_by_member_id", w.staff.id}};
  auto refused = w.desk().post("/v1/sites/" + w.site + "/items", own);
  EXPECT_EQ(refused.status, 403) << refused.body;
  // Acting for themselves changes nothing; acting for a member of the site drops for them.
  EXPECT_EQ(w.desk().acting_for(w.staff.id).post("/v1/sites/" + w.site + "/items", own).status,
            403);
  Json for_alice = own;
  for_alice["dropped_by_member_id"] = alice.id;
  auto dropped = w.desk().post("/v1/sites/" + w.site + "/items", for_alice);
  ASSERT_EQ(dropped.status, 201) << dropped.body;
  const std::string id = dropped.json()["id"];
  ASSERT_TRUE(
      eventually([&] { return !w.events_of("ledger.commands", "ledger.grant", id).empty(); }));
  for (const auto& grant : w.events_of("ledger.commands", "ledger.grant")) {
    EXPECT_NE(grant.data().value("to_member_id", ""), w.staff.id);
  }
}

TEST(DepotTrust, staff_rights_stop_at_their_own_site_and_community) {
  DepotWorld w("two sites");
  MemberInfo alice = w.member("Alice");
  const std::string other_site =
      w.world.create_site(w.community, "Ressourcerie de Roubaix", 50.69, 3.18);
  MemberInfo roubaix = w.world.register_member(w.community, "Rachid", other_site);
  w.world.make_staff(other_site, roubaix.id);
  roubaix.token = relogin(w.world, roubaix);
  Client other_desk(w.depot->url(), roubaix.token);
  const std::string item = w.intake("give");
  const std::string tool = w.intake("lend");

  EXPECT_EQ(other_desk
                .post("/v1/sites/" + w.site + "/items", {{"category", "perceuses"},
                                                         {"title", "Perceuse"},
                                                         {"condition", "good"},
                                                         {"weight_g", 1000},
                                                         {"mode", "give"}})
                .status,
            403);
  EXPECT_EQ(other_desk.post("/v1/items/" + item + "/collect", Json::object()).status, 403);
  EXPECT_EQ(
      other_desk.post("/v1/items/" + tool + "/lend", lend_body(alice.id, w.clock_s + kDayS)).status,
      403);
  EXPECT_EQ(other_desk.post("/v1/items/" + item + "/redirect", {{"outlet", "waste"}}).status, 403);
  ASSERT_EQ(w.as(alice).post("/v1/items/" + item + "/reserve").status, 200);
  EXPECT_EQ(other_desk.post("/v1/items/" + item + "/release").status, 403);  // not the reserver
  EXPECT_EQ(w.as(alice).get("/v1/items/" + item).json()["status"], "reserved");

  // A member of another community is unknown to this site's staff.
  const std::string elsewhere = w.world.create_community("Ailleurs");
  MemberInfo stranger = w.world.register_member(elsewhere, "Sam");
  auto lent =
      w.desk().post("/v1/items/" + tool + "/lend", lend_body(stranger.id, w.clock_s + kDayS));
  EXPECT_EQ(lent.status, 400) << lent.body;
  EXPECT_EQ(w.desk().post("/v1/items/" + item + "/collect", {{"member_id", stranger.id}}).status,
            400);
  Json dropped = {{"category", "perceuses"}, {"title", "Perceuse"},
                  {"condition", "good"},     {"weight_g", 1000},
                  {"mode", "give"},          {"dropped_by_member_id", stranger.id}};
  EXPECT_EQ(w.desk().post("/v1/sites/" + w.site + "/items", dropped).status, 400);
  // Nor reserve it: the shelf is public, the reservations are the community's.
  EXPECT_EQ(Client(w.depot->url(), stranger.token).post("/v1/items/" + tool + "/reserve").status,
            403);
  // A session that no longer works reads the public shelf as anyone does.
  ASSERT_EQ(Client(w.world.members->url(), stranger.token).post("/v1/auth/logout").status, 204);
  EXPECT_TRUE(eventually([&] {
    return Client(w.depot->url(), stranger.token).post("/v1/items/" + tool + "/reserve").status ==
           401;
  }));
  EXPECT_EQ(Client(w.depot->url(), stranger.token).get("/v1/sites/" + w.site + "/items").status,
            200);
  EXPECT_EQ(Client(w.depot->url(), stranger.token).get("/v1/items/" + tool).status, 200);
}

TEST(DepotTrust, the_export_functions_give_the_members_items_loans_and_open_loans) {
  DepotWorld w("export");
  MemberInfo alice = w.member("Alice"), bob = w.member("Bob");
  const std::string dropped = w.intake("give", 900, alice.id);
  const std::string tool = w.intake("lend", 2000);
  const std::string ladder = w.intake("lend", 7000, bob.id);
  const std::string shelf = w.intake("give", 3000);
  ASSERT_EQ(
      w.desk().post("/v1/items/" + tool + "/lend", lend_body(alice.id, w.clock_s + kDayS)).status,
      200);
  ASSERT_EQ(
      w.desk().post("/v1/items/" + ladder + "/lend", lend_body(alice.id, w.clock_s + kDayS)).status,
      200);
  ASSERT_EQ(w.as(alice).post("/v1/items/" + shelf + "/reserve").status, 200);
  ASSERT_EQ(w.as(bob).post("/v1/items/" + dropped + "/reserve").status, 200);

  pqxx::connection db(w.world.database);
  pqxx::nontransaction tx(db);
  auto open_loans = [&](const std::string& member) {
    return tx.exec_params("SELECT depot.member_open_loans($1)", member)[0][0].as<int>();
  };
  EXPECT_EQ(open_loans(alice.id), 2);
  EXPECT_EQ(open_loans(bob.id), 0);
  ASSERT_EQ(w.desk().post("/v1/items/" + ladder + "/return", {{"condition", "good"}}).status, 200);
  EXPECT_EQ(open_loans(alice.id), 1);

  const Json mine =
      Json::parse(tx.exec_params("SELECT depot.member_export($1)::text", alice.id)[0][0].c_str());
  ASSERT_EQ(mine["items_dropped"].size(), 1u);
  EXPECT_EQ(mine["items_dropped"][0]["item_id"], dropped);
  EXPECT_EQ(mine["items_dropped"][0]["weight_g"], 900);
  ASSERT_EQ(mine["loans"].size(), 2u);
  std::map<std::string, Json> loans;  // both lent within the same second: no order to rely on
  for (const auto& loan : mine["loans"]) loans[loan["item_id"].get<std::string>()] = loan;
  ASSERT_EQ(loans.count(tool), 1u);
  ASSERT_EQ(loans.count(ladder), 1u);
  EXPECT_EQ(loans[tool]["open"], true);
  EXPECT_TRUE(loans[tool]["returned_at"].is_null());
  EXPECT_EQ(loans[ladder]["open"], false);
  EXPECT_FALSE(loans[ladder]["returned_at"].is_null());
  ASSERT_EQ(mine["reservations"].size(), 1u);
  EXPECT_EQ(mine["reservations"][0]["item_id"], shelf);
  EXPECT_EQ(mine["truncated"], false);
  // Bob reserved what Alice dropped and dropped what she borrowed: he appears nowhere.
  EXPECT_EQ(mine.dump().find(bob.id), std::string::npos) << mine.dump();
  EXPECT_EQ(mine.dump().find(w.staff.id), std::string::npos) << mine.dump();
}

}  // namespace
}  // namespace maillon::testing
