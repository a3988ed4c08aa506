// The members lifecycle through the members service's HTTP API on real PostgreSQL and Redis:
// approval, suspension, staff and community administrators, the desk, reports, export. Each
// test also tries the route as the people who must not use it.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <set>

#include "harness.hpp"
#include "json_schema.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

const std::string kUnknownId = "00000000-0000-4000-8000-000000000000";

// An event as schemas/events/ describes its type.
void expect_described(const Json& event) {
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  const std::string file = event["type"].get<std::string>() + ".schema.json";
  auto violations = schemas.validate(file, event);
  std::string all;
  for (const auto& v : violations) all += "\n  " + v;
  EXPECT_TRUE(violations.empty()) << file << ":" << all << "\n" << event.dump();
}

class LifecycleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("lifecycle");
    open_community = world->create_community("Lille " + unique_suffix());
    site_a = world->create_site(open_community, "Tiers-lieu de Fives", 50.63, 3.09);
    site_b =
        world->create_site(open_community, "Ressourcerie de Wazemmes", 50.62, 3.05, "ressourcerie");
    approval_community =
        world->create_community("Roubaix " + unique_suffix(), {{"membership", "approval"}});
    site_p = world->create_site(approval_community, "Conciergerie de Roubaix", 50.69, 3.18,
                                "conciergerie");
    other_community = world->create_community("Arras " + unique_suffix());
    site_o =
        world->create_site(other_community, "Objetothèque d'Arras", 50.29, 2.78, "objetotheque");
  }
  static void TearDownTestSuite() {
    delete world;
    world = nullptr;
  }

  Client anon() const { return Client(world->members->url()); }
  Client as(const MemberInfo& m) const { return Client(world->members->url(), m.token); }
  MemberInfo member(const std::string& community, const std::string& name,
                    const std::optional<std::string>& site) const {
    return world->register_member(community, name, site);
  }
  MemberInfo staff(const std::string& community, const std::string& site,
                   const std::string& name) const {
    auto m = member(community, name, site);
    world->make_staff(site, m.id);
    return m;
  }
  HttpResult login(const MemberInfo& m) const {
    return anon().post("/v1/auth/login", {{"email", m.email}, {"password", "mot-de-passe-1"}});
  }
  // A community administrator of `community` (appointed by the admin), freshly logged in.
  MemberInfo community_admin(const std::string& community, const std::string& site) const {
    auto m = member(community, "Cadmin", site);
    auto r = world->admin().post("/v1/communities/" + community + "/admins", {{"member_id", m.id}});
    EXPECT_EQ(r.status, 204) << r.body;
    return m;
  }

  // The members stream's events of one type about one member (the relay publishes shortly
  // after the commit, so callers poll).
  static std::vector<Json> events(const std::string& type, const std::string& member_id) {
    Redis redis(redis_url());
    auto entries = redis.command({"XRANGE", world->prefix + ":members", "-", "+"});
    std::vector<Json> out;
    for (std::size_t i = 0; entries && i < entries->elements; ++i) {
      auto j = Json::parse(reply_string(entries->element[i]->element[1]->element[1]));
      if (j["type"] == type && j["data"].value("member_id", "") == member_id) out.push_back(j);
    }
    return out;
  }
  static std::vector<Json> events_of_report(const std::string& report_id) {
    Redis redis(redis_url());
    auto entries = redis.command({"XRANGE", world->prefix + ":members", "-", "+"});
    std::vector<Json> out;
    for (std::size_t i = 0; entries && i < entries->elements; ++i) {
      auto j = Json::parse(reply_string(entries->element[i]->element[1]->element[1]));
      if (j["type"] == "listing.hidden" && j["data"].value("report_id", "") == report_id)
        out.push_back(j);
    }
    return out;
  }

  static MembersWorld* world;
  static std::string open_community, site_a, site_b, approval_community, site_p, other_community,
      site_o;
};

MembersWorld* LifecycleTest::world = nullptr;
std::string LifecycleTest::open_community, LifecycleTest::site_a, LifecycleTest::site_b,
    LifecycleTest::approval_community, LifecycleTest::site_p, LifecycleTest::other_community,
    LifecycleTest::site_o;

// --- membership approval ------------------------------------------------------------------------

TEST_F(LifecycleTest, an_open_community_registers_active_members) {
  auto r = anon().post("/v1/auth/register", {{"email", "ouvert." + unique_suffix() + "@t.maillon"},
                                             {"password", "mot-de-passe-1"},
                                             {"display_name", "Odile"},
                                             {"community_id", open_community}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["member"]["status"], "active");
  EXPECT_GT(r.json()["member"]["member_number"].get<int>(), 0);
  const std::string id = r.json()["member"]["id"];
  ASSERT_TRUE(eventually([&] { return !events("member.registered", id).empty(); }));
  EXPECT_EQ(events("member.registered", id)[0]["data"]["status"], "active");
}

TEST_F(LifecycleTest, approval_community_member_waits_pending_until_home_staff_approve) {
  auto desk = staff(approval_community, site_p, "Paule");
  auto pending = member(approval_community, "Pierre", site_p);
  auto neighbour = member(approval_community, "Voisin", site_p);
  auto outsider_staff = staff(other_community, site_o, "Olivier");

  auto me = as(pending).get("/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["status"], "pending");
  EXPECT_EQ(as(neighbour).get("/v1/members/" + pending.id).json()["status"], "pending");
  ASSERT_TRUE(eventually([&] { return !events("member.registered", pending.id).empty(); }));
  EXPECT_EQ(events("member.registered", pending.id)[0]["data"]["status"], "pending");

  const std::string approve = "/v1/members/" + pending.id + "/approve";
  EXPECT_EQ(as(pending).post(approve).status, 403);         // not themselves
  EXPECT_EQ(as(neighbour).post(approve).status, 403);       // a member of the community
  EXPECT_EQ(as(outsider_staff).post(approve).status, 404);  // another community: unseen
  // Acting for the pending member lends their rights: nobody approves themselves.
  auto for_self = as(desk).acting_for(pending.id).post(approve);
  EXPECT_EQ(for_self.status, 403) << for_self.body;
  EXPECT_EQ(for_self.json()["code"], "self-moderation");
  EXPECT_EQ(anon().post(approve).status, 401);
  EXPECT_EQ(as(desk).post("/v1/members/" + kUnknownId + "/approve").status, 404);

  // Staff acting for another member keep their own staff powers, recorded under their name.
  auto ok = as(desk).acting_for(neighbour.id).post(approve);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["status"], "active");
  EXPECT_EQ(as(pending).get("/v1/me").json()["status"], "active");
  const Json audit = as(pending).get("/v1/me/export").json()["audit"];
  bool recorded = false;
  for (const auto& entry : audit) {
    if (entry.value("action", "") != "member.approved") continue;
    recorded = true;
    EXPECT_EQ(entry["actor_id"], desk.id) << entry;
    EXPECT_EQ(entry["details"]["on_behalf_of"], neighbour.id) << entry;
  }
  EXPECT_TRUE(recorded) << audit;
  ASSERT_TRUE(eventually([&] { return !events("member.approved", pending.id).empty(); }));
  auto approved = events("member.approved", pending.id)[0];
  expect_described(approved);
  EXPECT_EQ(approved["data"]["community_id"], approval_community);
  EXPECT_EQ(approved["community_id"], approval_community);

  // Approving again changes nothing and publishes nothing more.
  EXPECT_EQ(as(desk).post(approve).json()["status"], "active");
  EXPECT_EQ(world->admin().post(approve).status, 200);
  EXPECT_EQ(events("member.approved", pending.id).size(), 1u);
}

TEST_F(LifecycleTest, staff_of_another_site_of_the_community_cannot_approve_but_its_admin_can) {
  auto site_p2 = world->create_site(approval_community, "Annexe " + unique_suffix(), 50.7, 3.2);
  auto other_desk = staff(approval_community, site_p2, "Autre");
  auto pending = member(approval_community, "Patience", site_p);
  EXPECT_EQ(as(other_desk).post("/v1/members/" + pending.id + "/approve").status, 403);
  auto cadmin = community_admin(approval_community, site_p2);
  auto ok = as(cadmin).post("/v1/members/" + pending.id + "/approve");
  EXPECT_EQ(ok.status, 200) << ok.body;
}

// --- suspension ---------------------------------------------------------------------------------

TEST_F(LifecycleTest, suspension_ends_every_session_at_once_and_login_until_reinstated) {
  auto desk = staff(open_community, site_a, "Sacha");
  auto member_a = member(open_community, "Suzanne", site_a);
  auto second = login(member_a);
  ASSERT_EQ(second.status, 200);
  const std::string second_token = second.json()["token"];
  ASSERT_EQ(as(member_a).get("/v1/me").status, 200);

  auto no_reason = as(desk).wrong().post("/v1/members/" + member_a.id + "/suspend", Json::object());
  EXPECT_EQ(no_reason.status, 400);
  auto s = as(desk).post("/v1/members/" + member_a.id + "/suspend", {{"reason", "Incivilités"}});
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.json()["status"], "suspended");

  EXPECT_EQ(as(member_a).get("/v1/me").status, 401);
  EXPECT_EQ(anon().with_token(second_token).get("/v1/me").status, 401);
  auto refused = login(member_a);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.json()["code"], "suspended");
  // A wrong password says nothing about the suspension.
  EXPECT_EQ(anon()
                .post("/v1/auth/login", {{"email", member_a.email}, {"password", "pas-le-bon-1"}})
                .status,
            401);
  ASSERT_TRUE(eventually([&] { return !events("member.suspended", member_a.id).empty(); }));
  EXPECT_EQ(events("member.suspended", member_a.id)[0]["data"]["reason"], "Incivilités");
  expect_described(events("member.suspended", member_a.id)[0]);

  auto again = as(desk).post("/v1/members/" + member_a.id + "/suspend", {{"reason", "encore"}});
  EXPECT_EQ(again.json()["status"], "suspended");
  auto approve = as(desk).post("/v1/members/" + member_a.id + "/approve");
  EXPECT_EQ(approve.status, 409);

  auto back = as(desk).post("/v1/members/" + member_a.id + "/reinstate");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.json()["status"], "active");
  auto relog = login(member_a);
  ASSERT_EQ(relog.status, 200) << relog.body;
  EXPECT_EQ(relog.json()["member"]["status"], "active");
  ASSERT_TRUE(eventually([&] { return !events("member.reinstated", member_a.id).empty(); }));
  expect_described(events("member.reinstated", member_a.id)[0]);
  EXPECT_EQ(events("member.suspended", member_a.id).size(), 1u);
}

TEST_F(LifecycleTest, staff_suspend_plain_members_of_their_site_only) {
  auto desk = staff(open_community, site_a, "Sam");
  auto colleague = staff(open_community, site_a, "Colette");
  auto other_site_member = member(open_community, "Bernard", site_b);
  auto outsider = member(other_community, "Oscar", site_o);
  auto plain = member(open_community, "Paul", site_a);
  const Json reason = {{"reason", "test"}};
  auto suspend = [&](const MemberInfo& by, const std::string& id) {
    return as(by).post("/v1/members/" + id + "/suspend", reason);
  };
  auto self = suspend(desk, desk.id);
  EXPECT_EQ(self.status, 403);
  EXPECT_EQ(self.json()["code"], "self-moderation");
  auto peer = suspend(desk, colleague.id);
  EXPECT_EQ(peer.status, 403);
  EXPECT_EQ(peer.json()["code"], "protected-role");
  EXPECT_EQ(suspend(desk, other_site_member.id).status, 403);
  EXPECT_EQ(suspend(desk, outsider.id).status, 404);
  EXPECT_EQ(suspend(plain, desk.id).status, 403);
  // Acting for a member lends their rights: acting for the target is acting on oneself.
  auto acting_self =
      as(desk).acting_for(plain.id).post("/v1/members/" + plain.id + "/suspend", reason);
  EXPECT_EQ(acting_self.status, 403);
  EXPECT_EQ(acting_self.json()["code"], "self-moderation");
  // Acting for another member keeps the caller's own staff powers, never more.
  auto neighbour = member(open_community, "Nadia", site_a),
       third = member(open_community, "Théo", site_a);
  EXPECT_EQ(
      as(desk).acting_for(neighbour.id).post("/v1/members/" + third.id + "/suspend", reason).status,
      200);
  EXPECT_EQ(as(desk).acting_for(neighbour.id).post("/v1/members/" + third.id + "/reinstate").status,
            200);
  EXPECT_EQ(as(desk)
                .acting_for(neighbour.id)
                .post("/v1/members/" + colleague.id + "/suspend", reason)
                .status,
            403);
  EXPECT_EQ(as(desk)
                .acting_for(neighbour.id)
                .post("/v1/members/" + other_site_member.id + "/suspend", reason)
                .status,
            403);
  // Staff of a site are suspended by an administrator of their community.
  auto cadmin = community_admin(open_community, site_b);
  EXPECT_EQ(suspend(cadmin, colleague.id).status, 200);
  EXPECT_EQ(as(colleague).get("/v1/me").status, 401);
  EXPECT_EQ(as(cadmin).post("/v1/members/" + colleague.id + "/reinstate").status, 200);
  // A community administrator is suspended by an admin only, and an admin by nobody.
  auto cadmin2 = community_admin(open_community, site_a);
  auto cadmin_peer = suspend(cadmin, cadmin2.id);
  EXPECT_EQ(cadmin_peer.status, 403);
  EXPECT_EQ(world->admin().post("/v1/members/" + cadmin2.id + "/suspend", reason).status, 200);
  auto me = world->admin().get("/v1/me");
  const std::string admin_member = me.json()["id"];
  EXPECT_EQ(suspend(cadmin, admin_member).status, 404);
  EXPECT_EQ(world->admin().post("/v1/members/" + admin_member + "/suspend", reason).status, 403);
  EXPECT_EQ(suspend(plain, plain.id).status, 403);
}

TEST_F(LifecycleTest, a_member_suspended_while_pending_is_reinstated_pending) {
  auto desk = staff(approval_community, site_p, "Prudence");
  auto pending = member(approval_community, "Pascal", site_p);
  ASSERT_EQ(as(desk).post("/v1/members/" + pending.id + "/suspend", {{"reason", "spam"}}).status,
            200);
  auto back = as(desk).post("/v1/members/" + pending.id + "/reinstate");
  ASSERT_EQ(back.status, 200);
  EXPECT_EQ(back.json()["status"], "pending");
  EXPECT_TRUE(events("member.approved", pending.id).empty());
}

// --- staff and community administrators ---------------------------------------------------------

TEST_F(LifecycleTest, removing_staff_ends_their_desk_powers_at_once) {
  auto desk = staff(open_community, site_a, "Rémi");
  auto plain = member(open_community, "Rose", site_a);
  ASSERT_EQ(as(desk).acting_for(plain.id).get("/v1/me").status, 200);
  const std::string path = "/v1/sites/" + site_a + "/staff/" + desk.id;

  EXPECT_EQ(as(plain).del(path).status, 403);
  EXPECT_EQ(as(desk).del(path).status, 403);  // staff do not manage staff
  auto foreign = community_admin(other_community, site_o);
  EXPECT_EQ(as(foreign).del(path).status, 403);

  auto cadmin = community_admin(open_community, site_b);
  auto removed = as(cadmin).del(path);
  ASSERT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(as(desk).acting_for(plain.id).get("/v1/me").status, 401);
  auto relog = login(desk);
  ASSERT_EQ(relog.status, 200);
  auto now_plain = anon().with_token(relog.json()["token"]);
  EXPECT_EQ(now_plain.acting_for(plain.id).get("/v1/me").status, 403);
  EXPECT_EQ(relog.json()["member"]["staff_site_ids"], Json::array());
  EXPECT_EQ(as(cadmin).del(path).status, 204);  // already gone: nothing to do
}

TEST_F(LifecycleTest, a_community_admin_manages_their_community_only) {
  auto cadmin = community_admin(open_community, site_a);
  auto plain = member(open_community, "Noé", site_a);
  auto outsider = member(other_community, "Ophélie", site_o);
  const Json site = {{"community_id", open_community},
                     {"name", "Atelier " + unique_suffix()},
                     {"kind", "tiers_lieu"},
                     {"location", {{"lat", 50.6}, {"lon", 3.0}}},
                     {"address", "rue de Lille"}};
  auto created = as(cadmin).post("/v1/sites", site);
  ASSERT_EQ(created.status, 201) << created.body;
  Json elsewhere = site;
  elsewhere["community_id"] = other_community;
  EXPECT_EQ(as(cadmin).post("/v1/sites", elsewhere).status, 403);
  EXPECT_EQ(as(plain).post("/v1/sites", site).status, 403);

  const std::string new_site = created.json()["id"];
  EXPECT_EQ(as(cadmin).post("/v1/sites/" + new_site + "/staff", {{"member_id", plain.id}}).status,
            204);
  EXPECT_EQ(as(cadmin).post("/v1/sites/" + site_o + "/staff", {{"member_id", outsider.id}}).status,
            403);
  EXPECT_EQ(as(cadmin).post("/v1/communities", {{"name", "Pirates"}}).status, 403);
  EXPECT_EQ(as(cadmin)
                .post("/v1/communities/" + open_community + "/admins", {{"member_id", plain.id}})
                .status,
            403);
  EXPECT_EQ(as(cadmin).post("/v1/members/" + outsider.id + "/suspend", {{"reason", "x"}}).status,
            404);
  auto me = as(cadmin).get("/v1/me");
  EXPECT_EQ(me.json()["status"], "active");
}

TEST_F(LifecycleTest, only_an_admin_appoints_and_removes_community_admins) {
  auto plain = member(open_community, "Nina", site_a);
  auto outsider = member(other_community, "Omar", site_o);
  const std::string admins = "/v1/communities/" + open_community + "/admins";
  EXPECT_EQ(as(plain).post(admins, {{"member_id", plain.id}}).status, 403);
  EXPECT_EQ(world->admin().post(admins, {{"member_id", outsider.id}}).status, 422);
  EXPECT_EQ(world->admin()
                .post("/v1/communities/" + kUnknownId + "/admins", {{"member_id", plain.id}})
                .status,
            404);
  ASSERT_EQ(world->admin().post(admins, {{"member_id", plain.id}}).status, 204);
  auto relog = login(plain);
  auto promoted = anon().with_token(relog.json()["token"]);
  const Json site = {{"community_id", open_community},
                     {"name", "Repair café " + unique_suffix()},
                     {"kind", "tiers_lieu"},
                     {"location", {{"lat", 50.6}, {"lon", 3.0}}},
                     {"address", "place du marché"}};
  EXPECT_EQ(promoted.post("/v1/sites", site).status, 201);
  EXPECT_EQ(promoted.del(admins + "/" + plain.id).status, 403);
  ASSERT_EQ(world->admin().del(admins + "/" + plain.id).status, 204);
  EXPECT_EQ(promoted.get("/v1/me").status, 401);
  auto again = anon().with_token(login(plain).json()["token"]);
  EXPECT_EQ(again.post("/v1/sites", site).status, 403);
}

// --- the desk -----------------------------------------------------------------------------------

TEST_F(LifecycleTest, staff_register_a_member_at_the_desk_and_act_for_them) {
  auto desk = staff(approval_community, site_p, "Dora");
  auto plain = member(approval_community, "Marc", site_p);
  auto foreign_desk = staff(other_community, site_o, "Frida");
  const Json body = {
      {"display_name", "Georgette"}, {"home_site_id", site_p}, {"phone", "06 12 34 56 78"}};
  EXPECT_EQ(as(plain).post("/v1/members", body).status, 403);
  EXPECT_EQ(as(foreign_desk).post("/v1/members", body).status, 403);
  EXPECT_EQ(anon().post("/v1/members", body).status, 401);
  Json bad = body;
  bad["phone"] = "appelle-moi";
  bad["email"] = "x@y.fr";
  EXPECT_EQ(as(desk).wrong().post("/v1/members", bad).status, 400);

  auto r = as(desk).post("/v1/members", body);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  const int number = r.json()["member_number"];
  EXPECT_GT(number, 0);
  EXPECT_EQ(r.json()["status"], "active");  // met in person: approved by the registration
  auto next = as(desk).post("/v1/members", {{"display_name", "Gaston"}, {"home_site_id", site_p}});
  EXPECT_EQ(next.json()["member_number"].get<int>(), number + 1);
  // The desk is staff work: neither the admin nor an administrator of the community registers.
  EXPECT_EQ(world->admin().post("/v1/members", body).status, 403);
  EXPECT_EQ(as(community_admin(approval_community, site_p)).post("/v1/members", body).status, 403);
  // Staff acting for a member keep their own desk; the registration is theirs.
  auto acting = as(desk).acting_for(plain.id).post(
      "/v1/members", {{"display_name", "Gisèle"}, {"home_site_id", site_p}});
  ASSERT_EQ(acting.status, 201) << acting.body;
  const std::string acting_id = acting.json()["id"];
  ASSERT_TRUE(eventually([&] { return !events("member.registered", acting_id).empty(); }));
  EXPECT_EQ(events("member.registered", acting_id)[0]["data"]["registered_by"], desk.id);

  auto me = as(desk).acting_for(id).get("/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["id"], id);
  EXPECT_EQ(me.json()["member_number"], number);
  EXPECT_EQ(as(foreign_desk).acting_for(id).get("/v1/me").status, 403);
  ASSERT_TRUE(eventually([&] { return !events("member.registered", id).empty(); }));
  auto event = events("member.registered", id)[0]["data"];
  EXPECT_EQ(event["status"], "active");
  EXPECT_EQ(event["registered_by"], desk.id);
  EXPECT_EQ(event["home_site_id"], site_p);

  // Found at the desk by number, phone or name; not by staff elsewhere nor by members.
  for (const std::string& q :
       {std::to_string(number), std::string("0612345678"), std::string("georg")}) {
    auto found = as(desk).get("/v1/members?q=" + q);
    ASSERT_EQ(found.status, 200) << found.body;
    std::set<std::string> ids;
    const Json items = found.json()["items"];
    for (const auto& m : items) ids.insert(m["id"].get<std::string>());
    EXPECT_TRUE(ids.contains(id)) << q << ": " << found.body;
  }
  EXPECT_EQ(as(foreign_desk).get("/v1/members?q=georg").json()["items"].size(), 0u);
  EXPECT_EQ(as(plain).get("/v1/members?q=georg").status, 403);
  EXPECT_EQ(as(desk).get("/v1/members").status, 400);
  EXPECT_EQ(world->admin().get("/v1/members?q=" + std::string("%25")).status, 200);
}

// --- reports ------------------------------------------------------------------------------------

TEST_F(LifecycleTest, reports_reach_the_right_desk_which_hides_or_suspends) {
  auto desk_a = staff(open_community, site_a, "Armelle");
  auto desk_b = staff(open_community, site_b, "Basile");
  auto reporter = member(open_community, "Rita", site_a);
  auto troll = member(open_community, "Tristan", site_b);
  auto outsider = member(other_community, "Olga", site_o);
  const std::string offer_id = "7d1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";

  auto self = as(reporter).post(
      "/v1/reports", {{"target", "member"}, {"target_id", reporter.id}, {"reason", "moi"}});
  EXPECT_EQ(self.status, 422);
  EXPECT_EQ(
      as(reporter)
          .post("/v1/reports", {{"target", "member"}, {"target_id", outsider.id}, {"reason", "??"}})
          .status,
      404);
  EXPECT_EQ(as(reporter)
                .wrong()
                .post("/v1/reports", {{"target", "photo"}, {"target_id", offer_id}})
                .status,
            400);

  // About a member: the reported member's home site. About a listing: the reporter's.
  auto on_member = as(reporter).post(
      "/v1/reports", {{"target", "member"}, {"target_id", troll.id}, {"reason", "insultes"}});
  ASSERT_EQ(on_member.status, 201) << on_member.body;
  EXPECT_EQ(on_member.json()["site_id"], site_b);
  auto on_offer = as(reporter).post(
      "/v1/reports", {{"target", "offer"}, {"target_id", offer_id}, {"reason", "arnaque"}});
  ASSERT_EQ(on_offer.status, 201) << on_offer.body;
  EXPECT_EQ(on_offer.json()["site_id"], site_a);
  EXPECT_EQ(
      as(reporter)
          .post("/v1/reports", {{"target", "offer"}, {"target_id", offer_id}, {"reason", "encore"}})
          .status,
      409);
  const std::string member_report = on_member.json()["id"], offer_report = on_offer.json()["id"];

  auto listed = as(desk_b).get("/v1/sites/" + site_b + "/reports");
  ASSERT_EQ(listed.status, 200) << listed.body;
  std::set<std::string> ids;
  const Json items = listed.json()["items"];
  for (const auto& rep : items) ids.insert(rep["id"].get<std::string>());
  EXPECT_TRUE(ids.contains(member_report));
  EXPECT_FALSE(ids.contains(offer_report));
  EXPECT_EQ(as(reporter).get("/v1/sites/" + site_b + "/reports").status, 403);
  EXPECT_EQ(as(desk_a).get("/v1/sites/" + site_b + "/reports").status, 403);
  EXPECT_EQ(as(outsider).get("/v1/sites/" + site_b + "/reports").status, 404);
  // Reports are desk work: staff of the site only, not the admin nor the community's admins.
  auto cadmin = community_admin(open_community, site_b);
  EXPECT_EQ(world->admin().get("/v1/sites/" + site_b + "/reports").status, 403);
  EXPECT_EQ(as(cadmin).get("/v1/sites/" + site_b + "/reports").status, 403);
  auto neighbour_b = member(open_community, "Béatrice", site_b);
  EXPECT_EQ(as(desk_b).acting_for(neighbour_b.id).get("/v1/sites/" + site_b + "/reports").status,
            200);

  // The offer report: staff of the reporter's site hide the listing.
  const Json hide = {{"action", "hide"}};
  EXPECT_EQ(as(desk_b).post("/v1/reports/" + offer_report + "/close", hide).status, 403);
  EXPECT_EQ(as(reporter).post("/v1/reports/" + offer_report + "/close", hide).status, 403);
  EXPECT_EQ(world->admin().post("/v1/reports/" + offer_report + "/close", hide).status, 403);
  EXPECT_EQ(as(cadmin).post("/v1/reports/" + offer_report + "/close", hide).status, 403);
  // Acting for the reporter is judging as the reporter.
  auto for_reporter =
      as(desk_a).acting_for(reporter.id).post("/v1/reports/" + offer_report + "/close", hide);
  EXPECT_EQ(for_reporter.status, 403);
  EXPECT_EQ(for_reporter.json()["code"], "party-to-report");
  auto hidden = as(desk_a).post("/v1/reports/" + offer_report + "/close", hide);
  ASSERT_EQ(hidden.status, 200) << hidden.body;
  EXPECT_EQ(hidden.json()["state"], "closed");
  EXPECT_EQ(as(desk_a).post("/v1/reports/" + offer_report + "/close", hide).status, 409);
  ASSERT_TRUE(eventually([&] { return !events_of_report(offer_report).empty(); }));
  auto event = events_of_report(offer_report)[0];
  EXPECT_EQ(event["data"]["listing"], "offer");
  EXPECT_EQ(event["data"]["listing_id"], offer_id);
  EXPECT_EQ(event["data"]["community_id"], open_community);
  expect_described(event);

  // The member report: "hide" makes no sense; "suspend" suspends the reported member.
  EXPECT_EQ(as(desk_b).post("/v1/reports/" + member_report + "/close", hide).status, 422);
  // Staff acting for a member keep their own desk powers.
  auto suspended = as(desk_b)
                       .acting_for(neighbour_b.id)
                       .post("/v1/reports/" + member_report + "/close",
                             {{"action", "suspend"}, {"note", "insultes répétées"}});
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(as(troll).get("/v1/me").status, 401);
  EXPECT_EQ(login(troll).status, 403);
  ASSERT_TRUE(eventually([&] { return !events("member.suspended", troll.id).empty(); }));
}

TEST_F(LifecycleTest, a_reporter_cannot_flood_the_desk) {
  auto flooder = member(open_community, "Flo", site_a);
  int filed = 0, refused = 0;
  for (int i = 0; i < 22; ++i) {
    auto r = as(flooder).post("/v1/reports", {{"target", "request"},
                                              {"target_id", maillon::new_uuid()},
                                              {"reason", "signalement " + std::to_string(i)}});
    if (r.status == 201) ++filed;
    if (r.status != 429) continue;
    ++refused;
    EXPECT_EQ(r.headers["retry-after"], "3600");
  }
  EXPECT_EQ(filed, 20);
  EXPECT_EQ(refused, 2);
}

TEST_F(LifecycleTest, staff_cannot_judge_a_report_about_themselves) {
  auto desk = staff(open_community, site_a, "Juge");
  auto colleague = staff(open_community, site_a, "Collègue");
  auto reporter = member(open_community, "Rachid", site_b);
  auto r = as(reporter).post("/v1/reports",
                             {{"target", "member"}, {"target_id", desk.id}, {"reason", "abus"}});
  ASSERT_EQ(r.status, 201);
  const std::string close = "/v1/reports/" + r.json()["id"].get<std::string>() + "/close";
  auto own = as(desk).post(close, {{"action", "none"}});
  EXPECT_EQ(own.status, 403);
  EXPECT_EQ(own.json()["code"], "party-to-report");
  // A colleague may close it, but suspending staff takes a community administrator.
  EXPECT_EQ(as(colleague).post(close, {{"action", "suspend"}}).status, 403);
  EXPECT_EQ(as(colleague).post(close, {{"action", "none"}}).status, 200);
}

TEST_F(LifecycleTest, staff_cannot_close_a_report_they_filed_for_a_member) {
  auto desk = staff(open_community, site_a, "Porteur");
  auto colleague = staff(open_community, site_a, "Relais");
  auto plain = member(open_community, "Prosper", site_a);
  auto r = as(desk).acting_for(plain.id).post(
      "/v1/reports",
      {{"target", "offer"}, {"target_id", maillon::new_uuid()}, {"reason", "au guichet"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["reporter_id"], plain.id);
  const std::string close = "/v1/reports/" + r.json()["id"].get<std::string>() + "/close";
  auto own = as(desk).post(close, {{"action", "hide"}});
  EXPECT_EQ(own.status, 403);
  EXPECT_EQ(own.json()["code"], "party-to-report");
  EXPECT_EQ(as(colleague).post(close, {{"action", "hide"}}).status, 200);
}

TEST_F(LifecycleTest, a_staff_member_registers_at_most_fifty_people_a_day_at_the_desk) {
  auto desk = staff(open_community, site_b, "Guichetier");
  int created = 0, refused = 0;
  for (int i = 0; i < 52; ++i) {
    auto r = as(desk).post("/v1/members", {{"display_name", "Inscrit " + std::to_string(i)},
                                           {"home_site_id", site_b}});
    if (r.status == 201) ++created;
    if (r.status == 429) ++refused;
  }
  EXPECT_EQ(created, 50);
  EXPECT_EQ(refused, 2);
}

// --- RGPD ---------------------------------------------------------------------------------------

TEST_F(LifecycleTest, export_names_every_service_and_the_reports_filed) {
  auto m = member(open_community, "Exportine", site_a);
  ASSERT_EQ(as(m)
                .post("/v1/reports", {{"target", "offer"},
                                      {"target_id", maillon::new_uuid()},
                                      {"reason", "photo trompeuse"}})
                .status,
            201);
  auto r = as(m).get("/v1/me/export");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = r.json();
  for (const char* key : {"profile", "audit", "offers", "requests", "exchange", "ledger", "depot"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["profile"]["status"], "active");
  ASSERT_EQ(j["reports"].size(), 1u);
  EXPECT_EQ(j["reports"][0]["reason"], "photo trompeuse");
}

}  // namespace
}  // namespace maillon::testing
