// The members service through HTTP on real PostgreSQL and Redis: sessions, roles, errors.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "harness.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

class MembersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("members",
                             {{"MAILLON_LOGIN_RATE_PER_MIN", "6"}, {"MAILLON_LOGIN_BURST", "5"}});
    community = world->create_community("Métropole Européenne de Lille", {{"min_balance", -600}});
    other_community = world->create_community("Hénin-Carvin");
    site = world->create_site(community, "Objetothèque de Fives", 50.6297, 3.0917, "objetotheque");
  }
  static void TearDownTestSuite() {
    delete world;
    world = nullptr;
  }
  Client anon() const { return Client(world->members->url()); }
  Client as(const MemberInfo& m) const { return Client(world->members->url(), m.token); }

  static MembersWorld* world;
  static std::string community, other_community, site;
};

MembersWorld* MembersTest::world = nullptr;
std::string MembersTest::community, MembersTest::other_community, MembersTest::site;

TEST_F(MembersTest, register_login_me_logout_and_the_old_token_is_refused) {
  auto alice = world->register_member(community, "Alice", site);
  auto me = as(alice).get("/v1/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["id"], alice.id);
  EXPECT_EQ(me.json()["community_id"], community);
  EXPECT_EQ(me.json()["home_site_id"], site);
  EXPECT_EQ(me.json()["roles"], Json::array({"member"}));

  auto login =
      anon().post("/v1/auth/login", {{"email", alice.email}, {"password", "mot-de-passe-1"}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string second = login.json()["token"];
  EXPECT_NE(second, alice.token);

  EXPECT_EQ(as(alice).post("/v1/auth/logout").status, 204);
  EXPECT_EQ(as(alice).get("/v1/me").status, 401);
  EXPECT_EQ(anon().with_token(second).get("/v1/me").status, 200);
}

TEST_F(MembersTest, wrong_password_is_401_and_unknown_email_too) {
  auto bob = world->register_member(community, "Bob");
  auto r = anon().post("/v1/auth/login", {{"email", bob.email}, {"password", "pas-le-bon-mot"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["content-type"], "application/problem+json");
  EXPECT_EQ(
      anon()
          .post("/v1/auth/login", {{"email", "nobody@test.maillon"}, {"password", "whatever-12"}})
          .status,
      401);
}

TEST_F(MembersTest, login_flood_for_one_email_answers_429) {
  auto carol = world->register_member(community, "Carol");
  int too_many = 0;
  for (int i = 0; i < 12; ++i) {
    auto r =
        anon().post("/v1/auth/login", {{"email", carol.email}, {"password", "wrong-password"}});
    if (r.status == 429) ++too_many;
  }
  EXPECT_GT(too_many, 0);
}

// PostgreSQL folds the Kelvin sign (U+212A) to "k" when it finds the account: a spelling with it
// counts against the same account's failed logins, never a fresh counter of its own.
TEST_F(MembersTest, failed_logins_count_for_the_account_whatever_the_spelling) {
  auto kim = world->register_member(community, "Kim");
  const std::string kelvin = "\xE2\x84\xAA";  // K, KELVIN SIGN
  std::string spelling = kim.email;
  const auto k = spelling.find('k');
  ASSERT_NE(k, std::string::npos) << spelling;
  spelling.replace(k, 1, kelvin);
  int too_many = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string& email = i % 2 == 0 ? kim.email : spelling;
    auto r = anon().post("/v1/auth/login", {{"email", email}, {"password", "wrong-password"}});
    if (r.status == 429) ++too_many;
  }
  EXPECT_GT(too_many, 0) << "six wrong passwords for one account, in two spellings";
}

// A password's length is in characters ("é" is one), and a password is not the address itself;
// a text with an invisible spoofing character (a right-to-left override) or a line break is no
// display name.
TEST_F(MembersTest, registration_refuses_short_passwords_in_characters_and_invisible_tricks) {
  auto attempt = [&](Client client, const std::string& email, const std::string& password,
                     const std::string& name) {
    return client.post("/v1/auth/register", {{"email", email},
                                             {"password", password},
                                             {"display_name", name},
                                             {"community_id", community}});
  };
  const std::string email = "mot." + unique_suffix() + "@test.maillon";
  auto short_accents =
      attempt(anon().wrong(), email, "ééééééééé", "Élodie");  // 9 characters, 18 bytes
  ASSERT_EQ(short_accents.status, 400) << short_accents.body;
  EXPECT_EQ(short_accents.json()["errors"][0]["field"], "password");
  auto own_address = attempt(anon(), email, email, "Élodie");
  ASSERT_EQ(own_address.status, 400) << own_address.body;
  EXPECT_EQ(own_address.json()["errors"][0]["field"], "password");
  auto spoofed = attempt(anon(), email, "mot-de-passe-1",
                         "\xE2\x80\xAE"
                         "eidolÉ");  // U+202E first
  ASSERT_EQ(spoofed.status, 400) << spoofed.body;
  EXPECT_EQ(spoofed.json()["errors"][0]["field"], "display_name");
  // A name is one line: one of several would pass, in a mail, for the text around it.
  auto two_lines = attempt(anon(), email, "mot-de-passe-1",
                           "Élodie\r\n\r\nCompte suspendu : appelez le 08 99 00 00 00");
  ASSERT_EQ(two_lines.status, 400) << two_lines.body;
  EXPECT_EQ(two_lines.json()["errors"][0]["field"], "display_name");
  const auto created = attempt(anon(), email, "éééééééééé", "Élodie");  // 10 characters
  ASSERT_EQ(created.status, 201) << created.body;
  const Client elodie(world->members->url(), created.json().value("token", ""));
  for (const char* name : {"Élodie\nB.", "Élodie\tB."}) {
    auto renamed = elodie.wrong().patch("/v1/me", {{"display_name", name}});
    EXPECT_EQ(renamed.status, 400) << renamed.body;
  }
  EXPECT_EQ(elodie.patch("/v1/me", {{"display_name", "Élodie B."}}).status, 200);
}

TEST_F(MembersTest, duplicate_email_is_409_whatever_the_case) {
  auto dan = world->register_member(community, "Dan");
  std::string upper = dan.email;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto r = anon().post("/v1/auth/register", {{"email", upper},
                                             {"password", "mot-de-passe-1"},
                                             {"display_name", "Dan bis"},
                                             {"community_id", community}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.json()["code"], "email-taken");
}

TEST_F(MembersTest, bad_input_is_a_400_problem_naming_each_field) {
  auto malformed = anon().wrong().call("POST", "/v1/auth/register", "{\"email\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.headers["content-type"], "application/problem+json");
  EXPECT_EQ(malformed.json()["status"], 400);

  auto wrong = anon().wrong().post("/v1/auth/register", {{"email", 42},
                                                         {"password", "short"},
                                                         {"display_name", "E"},
                                                         {"community_id", "not-a-uuid"},
                                                         {"is_admin", true},
                                                         {"shoe_size", 44}});
  ASSERT_EQ(wrong.status, 400) << wrong.body;

  std::set<std::string> fields;
  const Json problem = wrong.json();
  for (const auto& e : problem["errors"]) fields.insert(e["field"].get<std::string>());
  EXPECT_EQ(fields,
            (std::set<std::string>{"email", "password", "community_id", "is_admin", "shoe_size"}))
      << wrong.body;
  EXPECT_EQ(wrong.body.find("SQL"), std::string::npos);

  auto not_object = anon().wrong().call("POST", "/v1/auth/login", "[1,2]");
  EXPECT_EQ(not_object.status, 400);
}

TEST_F(MembersTest, huge_body_is_413) {
  std::string big = "{\"email\":\"" + std::string(70 * 1024, 'a') + "\"}";
  auto r = anon().wrong().call("POST", "/v1/auth/login", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["type"], "/problems/payload-too-large");
}

TEST_F(MembersTest, unknown_community_on_register_is_a_field_error) {
  auto r =
      anon().post("/v1/auth/register", {{"email", "eve@test.maillon"},
                                        {"password", "mot-de-passe-1"},
                                        {"display_name", "Eve"},
                                        {"community_id", "00000000-0000-4000-8000-000000000000"}});
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["errors"][0]["field"], "community_id");
}

TEST_F(MembersTest, only_an_admin_creates_communities_and_sites) {
  auto fred = world->register_member(community, "Fred");
  EXPECT_EQ(as(fred).post("/v1/communities", {{"name", "Pirate"}}).status, 403);
  EXPECT_EQ(as(fred)
                .post("/v1/sites", {{"community_id", community},
                                    {"name", "Xanadu"},
                                    {"kind", "tiers_lieu"},
                                    {"location", {{"lat", 50.0}, {"lon", 3.0}}},
                                    {"address", "x"}})
                .status,
            403);
  EXPECT_EQ(anon().post("/v1/communities", {{"name", "Pirate"}}).status, 401);
  auto bad_policy = world->admin().wrong().post(
      "/v1/communities", {{"name", "Bad"}, {"policy", {{"min_balance", 10}, {"color", "red"}}}});
  EXPECT_EQ(bad_policy.status, 400);
}

TEST_F(MembersTest, community_policy_has_defaults_and_is_readable_by_its_members) {
  auto gina = world->register_member(community, "Gina");
  auto r = as(gina).get("/v1/communities/" + community);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["policy"]["min_balance"], -600);
  EXPECT_EQ(r.json()["policy"]["max_balance"], 6000);
  EXPECT_EQ(as(gina).get("/v1/communities/" + other_community).status, 404);
}

TEST_F(MembersTest, another_communitys_member_profile_is_404_and_email_only_for_self_and_staff) {
  auto hugo = world->register_member(community, "Hugo", site);
  auto ines = world->register_member(community, "Ines");
  auto stranger = world->register_member(other_community, "Jules");
  EXPECT_EQ(as(stranger).get("/v1/members/" + hugo.id).status, 404);
  auto seen = as(ines).get("/v1/members/" + hugo.id);
  ASSERT_EQ(seen.status, 200);
  EXPECT_FALSE(seen.json().contains("email"));
  EXPECT_EQ(seen.json()["reliability"], 0.5);
  EXPECT_EQ(as(hugo).get("/v1/members/" + hugo.id).json()["email"], hugo.email);

  auto staff = world->register_member(community, "Karim");
  world->make_staff(site, staff.id);
  EXPECT_EQ(as(staff).get("/v1/members/" + hugo.id).json()["email"], hugo.email);
  EXPECT_EQ(as(staff).get("/v1/me").json()["roles"], Json::array({"member", "staff"}));
}

TEST_F(MembersTest, staff_act_for_a_member_of_their_site_and_others_may_not) {
  auto lea = world->register_member(community, "Lea", site);
  auto staff = world->register_member(community, "Marc");
  world->make_staff(site, staff.id);
  auto acting = as(staff).acting_for(lea.id);
  auto me = acting.get("/v1/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.json()["id"], lea.id);
  ASSERT_EQ(acting.patch("/v1/me", {{"display_name", "Léa M."}}).status, 200);
  auto exported = as(lea).get("/v1/me/export").json();
  ASSERT_EQ(exported["audit"].size(), 1u);
  EXPECT_EQ(exported["audit"][0]["actor_id"], staff.id);

  auto nina = world->register_member(community, "Nina");
  EXPECT_EQ(as(nina).acting_for(lea.id).get("/v1/me").status, 403);
}

TEST_F(MembersTest, staff_role_needs_a_member_of_the_sites_community) {
  auto outsider = world->register_member(other_community, "Oscar");
  auto r = world->admin().post("/v1/sites/" + site + "/staff", {{"member_id", outsider.id}});
  EXPECT_EQ(r.status, 422);
}

TEST_F(MembersTest, erasure_revokes_sessions_and_keeps_a_pseudonymous_event) {
  auto paul = world->register_member(community, "Paul");
  auto r = as(paul).call("DELETE", "/v1/me", R"({"password":"mot-de-passe-1"})");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(as(paul).get("/v1/me").status, 401);
  EXPECT_EQ(
      anon().post("/v1/auth/login", {{"email", paul.email}, {"password", "mot-de-passe-1"}}).status,
      401);
  Redis redis(redis_url());
  bool seen = eventually([&] {
    auto entries = redis.command({"XRANGE", world->prefix + ":members", "-", "+"});
    for (std::size_t i = 0; i < entries->elements; ++i) {
      std::string payload = reply_string(entries->element[i]->element[1]->element[1]);
      auto j = Json::parse(payload);
      if (j["type"] == "member.erased" && j["data"]["member_id"] == paul.id) return true;
    }
    return false;
  });
  EXPECT_TRUE(seen);
  pqxx::connection conn(world->database);
  pqxx::nontransaction tx(conn);
  auto row =
      tx.exec_params("SELECT email, display_name FROM members.members WHERE id = $1", paul.id);
  EXPECT_EQ(std::string(row[0][0].c_str()).find(paul.email), std::string::npos);
  EXPECT_EQ(std::string(row[0][1].c_str()), "Membre supprimé");
}

TEST_F(MembersTest, sites_list_is_public_and_paginated) {
  for (int i = 0; i < 3; ++i)
    world->create_site(community, "Site " + std::to_string(i), 50.6, 3.0 + i * 0.01);
  auto first = anon().get("/v1/sites?community_id=" + community + "&limit=2");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(first.json()["items"].size(), 2u);
  std::string cursor = first.json()["next_cursor"];
  auto second = anon().get("/v1/sites?community_id=" + community + "&limit=2&cursor=" + cursor);
  ASSERT_EQ(second.status, 200);
  EXPECT_NE(first.json()["items"][0]["id"], second.json()["items"][0]["id"]);
  EXPECT_EQ(anon().get("/v1/sites?limit=500").status, 400);
}

TEST_F(MembersTest, probes_answer) {
  EXPECT_EQ(anon().get("/healthz").status, 200);
  EXPECT_EQ(anon().get("/readyz").status, 200);
  auto metrics = anon().get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("maillon_http_requests_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("maillon_outbox_lag_seconds"), std::string::npos);
}

}  // namespace
}  // namespace maillon::testing

namespace maillon::testing {
namespace {

// kill -9 in the middle of a stream of registrations: after a restart every committed member has
// its member.registered event on the stream (same event id if it appears twice), and no event
// exists for a registration that did not commit.
TEST(MembersCrash, events_of_committed_registrations_survive_kill_9) {
  MembersWorld world("crash");
  std::string community = world.create_community("Crash");
  std::atomic<bool> stop{false};
  std::atomic<int> created{0};
  std::thread writer([&] {
    for (int i = 0; !stop && i < 400; ++i) {
      Json body = {{"email", "p" + std::to_string(i) + "@crash.maillon"},
                   {"password", "mot-de-passe-1"},
                   {"display_name", "P" + std::to_string(i)},
                   {"community_id", community}};
      if (http_request(world.members->url(), "POST", "/v1/auth/register", body.dump()).status ==
          201)
        ++created;
    }
  });
  ASSERT_TRUE(eventually([&] { return created >= 5; }, 20000));
  world.members->kill9();
  stop = true;
  writer.join();
  world.members->start();

  pqxx::connection conn(world.database);
  std::set<std::string> committed;
  {
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT id FROM members.members WHERE NOT is_admin"))
      committed.insert(row[0].c_str());
  }
  Redis redis(redis_url());
  std::map<std::string, std::set<std::string>> event_ids_by_member;
  ASSERT_TRUE(eventually(
      [&] {
        event_ids_by_member.clear();
        auto entries = redis.command({"XRANGE", world.prefix + ":members", "-", "+"});
        for (std::size_t i = 0; i < entries->elements; ++i) {
          auto j = Json::parse(reply_string(entries->element[i]->element[1]->element[1]));
          if (j["type"] == "member.registered")
            event_ids_by_member[j["data"]["member_id"]].insert(j["id"].get<std::string>());
        }
        return event_ids_by_member.size() == committed.size();
      },
      10000));
  EXPECT_GE(static_cast<int>(committed.size()), created.load());
  for (const auto& id : committed) {
    ASSERT_EQ(event_ids_by_member.count(id), 1u) << "no event for committed member " << id;
    EXPECT_EQ(event_ids_by_member[id].size(), 1u) << "two different events for one registration";
  }
}

// SIGTERM: the service stops answering as ready, finishes, publishes what it committed, exits 0.
TEST(MembersCrash, sigterm_drains_the_outbox_and_exits) {
  MembersWorld world("drain");
  std::string community = world.create_community("Drain");
  world.register_member(community, "Zoe");
  world.members->terminate();
  EXPECT_FALSE(world.members->running());
  pqxx::connection conn(world.database);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(
      tx.exec("SELECT count(*) FROM members.outbox WHERE published_at IS NULL")[0][0].as<int>(), 0);
}

}  // namespace
}  // namespace maillon::testing
