// Listings follow their owner's standing and staff moderation (services/offers/consumers.cpp),
// against the real members, offers and requests services: the members stream's lifecycle events
// are appended as the members service publishes them, so each case controls their order and
// time. Also who may edit a listing and where it may be handed over.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <ctime>
#include <pqxx/pqxx>

#include "harness.hpp"
#include "json_schema.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

Json good(const std::string& title) {
  return {{"kind", "good"},
          {"mode", "lend"},
          {"category", "perceuses"},
          {"title", title},
          {"location", {{"lat", 50.6301}, {"lon", 3.0712}}}};
}

std::vector<std::string> ids_of(const HttpResult& r) {
  std::vector<std::string> ids;
  const Json page = r.json();
  for (const auto& item : page["items"]) ids.push_back(item["id"]);
  return ids;
}

bool has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// RFC 3339 with microseconds, `offset_ms` from now: events carry their own time.
std::string at(int64_t offset_ms) {
  using namespace std::chrono;
  auto t = system_clock::now() + milliseconds(offset_ms);
  auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  std::time_t s = static_cast<std::time_t>(us / 1'000'000);
  std::tm utc{};
  gmtime_r(&s, &utc);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(us % 1'000'000));
  return out;
}

class ListingStanding : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("standing");
    community = world->create_community("Lens-Liévin");
    other_community = world->create_community("Douaisis");
    site = world->create_site(community, "Tiers-lieu de Lens", 50.43, 2.83);
    second_site = world->create_site(community, "Ressourcerie de Liévin", 50.42, 2.78);
    foreign_site = world->create_site(other_community, "Tiers-lieu de Douai", 50.37, 3.08);
    offers = new ServiceProcess("offers", world->env());
    requests = new ServiceProcess("requests", world->env());
    offers->start();
    requests->start();
    staff = world->register_member(community, "Nadia", site);
    world->make_staff(site, staff.id);
    other_staff = world->register_member(community, "Omar", second_site);
    world->make_staff(second_site, other_staff.id);
    staff.token = relogin(staff);
    other_staff.token = relogin(other_staff);
  }
  static void TearDownTestSuite() {
    delete requests;
    delete offers;
    delete world;
  }

  static std::string relogin(const MemberInfo& m) {
    auto r = http_request(world->members->url(), "POST", "/v1/auth/login",
                          Json{{"email", m.email}, {"password", "mot-de-passe-1"}}.dump());
    return r.json()["token"];
  }
  static MemberInfo member(const std::string& name) {
    return world->register_member(community, name, site);
  }
  static Client on(ServiceProcess* p, const MemberInfo& m) { return Client(p->url(), m.token); }
  static std::string create(ServiceProcess* p, const MemberInfo& m, const Json& body) {
    auto r = on(p, m).post(p == offers ? "/v1/offers" : "/v1/requests", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  // What another member of the community finds among the active offers.
  static std::vector<std::string> found_by(const MemberInfo& m, const std::string& path) {
    ServiceProcess* p = path == "/v1/offers" ? offers : requests;
    return ids_of(on(p, m).get(path + "?limit=100"));
  }
  static void publish_member_event(const std::string& type, const Json& data,
                                   const std::string& occurred_at) {
    Json envelope = {
        {"id", new_uuid()},          {"type", type}, {"version", 1}, {"occurred_at", occurred_at},
        {"community_id", community}, {"data", data}};
    Redis redis(redis_url());
    auto r = redis.command({"XADD", world->prefix + ":members", "*", "event", envelope.dump()});
    ASSERT_FALSE(is_error(r.get())) << reply_string(r.get());
  }
  static std::vector<Json> events(const std::string& stream, const std::string& listing_id) {
    Redis redis(redis_url());
    auto entries = redis.command({"XRANGE", world->prefix + ":" + stream, "-", "+"});
    std::vector<Json> out;
    for (std::size_t i = 0; i < entries->elements; ++i) {
      const redisReply* fields = entries->element[i]->element[1];
      Json e = Json::parse(reply_string(fields->element[1]));
      if (e["data"].value("id", "") == listing_id) out.push_back(e);
    }
    return out;
  }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* offers = nullptr;
  static inline ServiceProcess* requests = nullptr;
  static inline std::string community, other_community, site, second_site, foreign_site;
  static inline MemberInfo staff, other_staff;
};

TEST_F(ListingStanding, suspension_hides_the_listings_and_reinstatement_shows_them_as_they_were) {
  MemberInfo alice = member("Alice"), bob = member("Bob");
  const std::string active = create(offers, alice, good("Perceuse à prêter"));
  const std::string paused = create(offers, alice, good("Scie sauteuse"));
  ASSERT_EQ(on(offers, alice).patch("/v1/offers/" + paused, {{"status", "paused"}}).status, 200);
  const std::string wanted = create(requests, alice, good("Cherche un escabeau"));
  ASSERT_TRUE(has(found_by(bob, "/v1/offers"), active));
  ASSERT_TRUE(has(found_by(bob, "/v1/requests"), wanted));

  publish_member_event("member.suspended",
                       {{"member_id", alice.id}, {"community_id", community}, {"reason", "spam"}},
                       at(0));
  ASSERT_TRUE(eventually([&] { return !has(found_by(bob, "/v1/offers"), active); }));
  ASSERT_TRUE(eventually([&] { return !has(found_by(bob, "/v1/requests"), wanted); }));
  EXPECT_EQ(on(offers, bob).get("/v1/offers/" + active).status, 404);
  EXPECT_EQ(on(offers, bob).get("/v1/offers/" + paused).status, 404);
  EXPECT_EQ(on(offers, bob).del("/v1/offers/" + active).status, 404);  // unseen, so unknown
  EXPECT_FALSE(has(ids_of(on(offers, bob).get("/v1/offers?q=perceuse")), active));
  EXPECT_FALSE(has(ids_of(on(offers, bob).get("/v1/offers?member_id=" + alice.id)), active));
  // Its owner (and the staff who may edit it) still see it, told why nobody else does.
  const Json own = on(offers, alice).get("/v1/offers/" + active).json();
  EXPECT_EQ(own["status"], "active");
  EXPECT_EQ(own["hidden"], true);
  EXPECT_EQ(own["hidden_reason"], "suspended");
  EXPECT_TRUE(has(ids_of(on(offers, alice).get("/v1/offers?member_id=me")), active));
  EXPECT_EQ(on(offers, staff).get("/v1/offers/" + active).status, 200);
  // No new listing while suspended, even with a session that survived.
  auto refused = on(offers, alice).post("/v1/offers", good("Ponceuse"));
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.json()["type"].get<std::string>().find("member-suspended") != std::string::npos,
            true)
      << refused.body;
  // Matching and exchanges learn it as a paused listing flagged hidden.
  ASSERT_TRUE(eventually([&] {
    auto e = events("offers", active);
    return !e.empty() && e.back()["data"].value("hidden", false);
  }));
  const Json hidden_event = events("offers", active).back();
  EXPECT_EQ(hidden_event["type"], "offer.updated");
  EXPECT_EQ(hidden_event["data"]["status"], "paused");
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  auto violations = schemas.validate("offer.updated.schema.json", hidden_event);
  EXPECT_TRUE(violations.empty()) << violations.front();

  publish_member_event("member.reinstated", {{"member_id", alice.id}, {"community_id", community}},
                       at(1));
  ASSERT_TRUE(eventually([&] { return has(found_by(bob, "/v1/offers"), active); }));
  ASSERT_TRUE(eventually([&] { return has(found_by(bob, "/v1/requests"), wanted); }));
  EXPECT_EQ(on(offers, bob).get("/v1/offers/" + paused).json()["status"], "paused");
  EXPECT_FALSE(on(offers, alice).get("/v1/offers/" + active).json().contains("hidden"));
  ASSERT_TRUE(eventually([&] {
    auto e = events("offers", active);
    return !e.back()["data"].contains("hidden") && e.back()["data"]["status"] == "active";
  }));
  EXPECT_EQ(on(offers, alice).post("/v1/offers", good("Ponceuse")).status, 201);
}

TEST_F(ListingStanding, a_late_suspension_does_not_undo_a_later_reinstatement) {
  MemberInfo carla = member("Carla"), bob = member("Bob");
  const std::string offer = create(offers, carla, good("Perceuse de Carla"));
  const std::string suspended_at = at(0), reinstated_at = at(1);
  publish_member_event("member.reinstated", {{"member_id", carla.id}, {"community_id", community}},
                       reinstated_at);
  publish_member_event("member.suspended",
                       {{"member_id", carla.id}, {"community_id", community}, {"reason", "x"}},
                       suspended_at);
  // A later event on the same stream: once it is applied, the two before it were too.
  MemberInfo dora = member("Dora");
  const std::string dora_offer = create(offers, dora, good("Perceuse de Dora"));
  publish_member_event("member.suspended",
                       {{"member_id", dora.id}, {"community_id", community}, {"reason", "x"}},
                       at(2));
  ASSERT_TRUE(eventually([&] { return !has(found_by(bob, "/v1/offers"), dora_offer); }));
  EXPECT_TRUE(has(found_by(bob, "/v1/offers"), offer));
  EXPECT_EQ(on(offers, bob).get("/v1/offers/" + offer).status, 200);
}

TEST_F(ListingStanding, erasure_withdraws_every_listing_for_good) {
  MemberInfo erin = member("Erin"), bob = member("Bob");
  const std::string offer = create(offers, erin, good("Perceuse d'Erin"));
  const std::string paused = create(offers, erin, good("Scie d'Erin"));
  ASSERT_EQ(on(offers, erin).patch("/v1/offers/" + paused, {{"status", "paused"}}).status, 200);
  const std::string request = create(requests, erin, good("Cherche un escabeau"));
  // A suspension stamped later than the erasure (clocks of two members processes) is applied
  // first: the erasure still closes everything. The listings stay hidden from other members;
  // staff of the home site read their status.
  publish_member_event("member.suspended",
                       {{"member_id", erin.id}, {"community_id", community}, {"reason", "x"}},
                       at(5000));
  publish_member_event("member.erased",
                       {{"member_id", erin.id}, {"community_id", community}, {"pseudonym", "m-1"}},
                       at(0));
  ASSERT_TRUE(eventually(
      [&] { return on(offers, staff).get("/v1/offers/" + offer).json()["status"] == "closed"; }));
  EXPECT_EQ(on(offers, staff).get("/v1/offers/" + paused).json()["status"], "closed");
  ASSERT_TRUE(eventually([&] {
    return on(requests, staff).get("/v1/requests/" + request).json()["status"] == "closed";
  }));
  // Searches are served from a read model that follows the table within its poll interval.
  EXPECT_TRUE(eventually([&] { return !has(found_by(bob, "/v1/offers"), offer); }));
  ASSERT_TRUE(eventually([&] {
    auto e = events("offers", offer);
    return !e.empty() && e.back()["type"] == "offer.closed";
  }));
  const Json closed = events("offers", offer).back();
  EXPECT_EQ(closed["data"]["reason"], "withdrawn");
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  auto violations = schemas.validate("offer.closed.schema.json", closed);
  EXPECT_TRUE(violations.empty()) << violations.front();
  // Erasure is final: a reinstatement sent later changes nothing, and nothing new is posted.
  publish_member_event("member.reinstated", {{"member_id", erin.id}, {"community_id", community}},
                       at(1));
  MemberInfo fred = member("Fred");
  const std::string fred_offer = create(offers, fred, good("Perceuse de Fred"));
  publish_member_event("member.suspended",
                       {{"member_id", fred.id}, {"community_id", community}, {"reason", "x"}},
                       at(2));
  ASSERT_TRUE(eventually([&] { return !has(found_by(bob, "/v1/offers"), fred_offer); }));
  EXPECT_EQ(on(offers, staff).get("/v1/offers/" + offer).json()["status"], "closed");
  EXPECT_EQ(on(offers, erin).post("/v1/offers", good("Encore")).status, 403);
}

TEST_F(ListingStanding, staff_moderation_hides_one_listing_of_its_side_until_for_good) {
  MemberInfo gina = member("Gina"), bob = member("Bob");
  const std::string offer = create(offers, gina, good("Perceuse douteuse"));
  const std::string kept = create(offers, gina, good("Perceuse honnête"));
  const std::string request = create(requests, gina, good("Cherche douteux"));
  // An event naming the request side leaves the offer service alone, and the other way round.
  publish_member_event("listing.hidden",
                       {{"listing", "request"},
                        {"listing_id", request},
                        {"community_id", community},
                        {"report_id", new_uuid()}},
                       at(0));
  publish_member_event("listing.hidden",
                       {{"listing", "offer"},
                        {"listing_id", offer},
                        {"community_id", community},
                        {"report_id", new_uuid()}},
                       at(1));
  ASSERT_TRUE(eventually([&] { return on(offers, bob).get("/v1/offers/" + offer).status == 404; }));
  ASSERT_TRUE(
      eventually([&] { return on(requests, bob).get("/v1/requests/" + request).status == 404; }));
  EXPECT_TRUE(has(found_by(bob, "/v1/offers"), kept));
  EXPECT_EQ(on(offers, gina).get("/v1/offers/" + offer).json()["hidden_reason"], "moderated");
  // A reinstatement concerns suspensions, not moderation: the listing stays hidden.
  publish_member_event("member.suspended",
                       {{"member_id", gina.id}, {"community_id", community}, {"reason", "x"}},
                       at(2));
  publish_member_event("member.reinstated", {{"member_id", gina.id}, {"community_id", community}},
                       at(3));
  // published, hidden by the suspension, shown again by the reinstatement
  ASSERT_TRUE(eventually([&] {
    auto e = events("offers", kept);
    return e.size() >= 3 && e.back()["type"] == "offer.updated" &&
           !e.back()["data"].contains("hidden");
  }));
  ASSERT_TRUE(eventually([&] { return has(found_by(bob, "/v1/offers"), kept); }));
  EXPECT_EQ(on(offers, bob).get("/v1/offers/" + offer).status, 404);
  // Its owner may still edit or close it; un-pausing does not unhide it.
  EXPECT_EQ(on(offers, gina).patch("/v1/offers/" + offer, {{"status", "paused"}}).status, 200);
  EXPECT_EQ(on(offers, gina).patch("/v1/offers/" + offer, {{"status", "active"}}).status, 200);
  EXPECT_EQ(on(offers, bob).get("/v1/offers/" + offer).status, 404);
  EXPECT_EQ(on(offers, gina).del("/v1/offers/" + offer).status, 204);
}

TEST_F(ListingStanding, only_the_owner_and_staff_of_its_sites_edit_a_listing) {
  MemberInfo hugo = member("Hugo"), bob = member("Bob");
  const std::string offer = create(offers, hugo, good("Perceuse de Hugo"));
  // Staff of another site of the same community: 403, as for any other member who reads it.
  EXPECT_EQ(on(offers, other_staff).patch("/v1/offers/" + offer, {{"title", "Volée"}}).status, 403);
  EXPECT_EQ(on(offers, other_staff).del("/v1/offers/" + offer).status, 403);
  EXPECT_EQ(on(offers, bob).patch("/v1/offers/" + offer, {{"status", "paused"}}).status, 403);
  // Staff of the owner's home site may.
  EXPECT_EQ(
      on(offers, staff).patch("/v1/offers/" + offer, {{"title", "Perceuse (vérifiée)"}}).status,
      200);
  // A handover site must be one of the community's.
  Json at_foreign = good("Perceuse ailleurs");
  at_foreign.erase("location");
  at_foreign["site_id"] = foreign_site;
  EXPECT_EQ(on(offers, hugo).post("/v1/offers", at_foreign).status, 400);
  EXPECT_EQ(on(offers, hugo).patch("/v1/offers/" + offer, {{"site_id", foreign_site}}).status, 400);
  EXPECT_EQ(on(offers, hugo).patch("/v1/offers/" + offer, {{"site_id", new_uuid()}}).status, 400);
}

// offers.member_export and requests.member_export, the published functions the members
// service calls for GET /v1/me/export: every listing of the member with what only they see,
// nobody else's.
TEST_F(ListingStanding, the_export_functions_return_the_members_listings_and_nobody_elses) {
  MemberInfo iris = member("Iris"), bob = member("Bob");
  const std::string offer = create(offers, iris, good("Perceuse d'Iris"));
  const std::string closed = create(offers, iris, good("Scie d'Iris"));
  ASSERT_EQ(on(offers, iris).del("/v1/offers/" + closed).status, 204);
  const std::string request = create(requests, iris, good("Cherche un escabeau"));
  const std::string others = create(offers, bob, good("Perceuse de Bob"));

  pqxx::connection db(world->database);
  pqxx::nontransaction tx(db);
  auto exported = [&](const std::string& schema) {
    return Json::parse(
        tx.exec_params("SELECT " + schema + ".member_export($1)::text", iris.id)[0][0].c_str());
  };
  const Json mine = exported("offers");
  EXPECT_EQ(mine["side"], "offer");
  EXPECT_EQ(mine["truncated"], false);
  ASSERT_EQ(mine["listings"].size(), 2u);
  EXPECT_EQ(mine["listings"][0]["id"], offer);
  EXPECT_EQ(mine["listings"][0]["status"], "active");
  EXPECT_DOUBLE_EQ(mine["listings"][0]["location"]["lat"].get<double>(), 50.6301);
  EXPECT_EQ(mine["listings"][1]["id"], closed);
  EXPECT_EQ(mine["listings"][1]["status"], "closed");
  const Json wanted = exported("requests");
  EXPECT_EQ(wanted["side"], "request");
  ASSERT_EQ(wanted["listings"].size(), 1u);
  EXPECT_EQ(wanted["listings"][0]["id"], request);
  const std::string text = mine.dump() + wanted.dump();
  EXPECT_EQ(text.find(others), std::string::npos);
  EXPECT_EQ(text.find(bob.id), std::string::npos);
  // A stranger's id exports nothing; the function answers whatever the caller's search_path.
  tx.exec("SET search_path TO public");
  EXPECT_EQ(tx.exec_params("SELECT offers.member_export($1)::text", new_uuid())[0][0].c_str(),
            std::string(R"({"side" : "offer", "listings" : [], "truncated" : false})"));
}

}  // namespace
}  // namespace maillon::testing
