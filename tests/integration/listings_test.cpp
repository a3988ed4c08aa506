// The offers and requests services through HTTP on real PostgreSQL and Redis: creation and its
// refusals, who may see and edit, French search, filters, distances, pagination under
// concurrent inserts, lifecycle (owner, expiry job, exchange events) and the published events.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <set>
#include <thread>

#include "exchange/listing.hpp"
#include "harness.hpp"
#include "json_schema.hpp"
#include "matching/geo.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

constexpr double kFivesLat = 50.6297, kFivesLon = 3.0917;

std::string rfc3339_in(std::chrono::seconds from_now) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return out;
}

// Builders: a valid listing body; each test changes what it is about.
Json good(const std::string& title, double lat = 50.63, double lon = 3.07) {
  return {{"kind", "good"},
          {"mode", "lend"},
          {"category", "perceuses"},
          {"title", title},
          {"location", {{"lat", lat}, {"lon", lon}}}};
}

Json service(const std::string& title) {
  return {{"kind", "service"},
          {"mode", "service"},
          {"category", "aide-aux-devoirs"},
          {"title", title},
          {"duration_minutes", 60},
          {"price_minutes", 60},
          {"location", {{"lat", 50.64}, {"lon", 3.06}}}};
}

Json with(Json body, const std::string& field, Json value) {
  body[field] = std::move(value);
  return body;
}

std::set<std::string> error_fields(const HttpResult& r) {
  std::set<std::string> fields;
  const Json problem = r.json();
  for (const auto& e : problem.value("errors", Json::array()))
    fields.insert(e["field"].get<std::string>());
  return fields;
}

std::vector<std::string> ids_of(const HttpResult& r) {
  std::vector<std::string> ids;
  const Json page = r.json();  // kept: iterating a member of a temporary would dangle
  for (const auto& item : page["items"]) ids.push_back(item["id"]);
  return ids;
}

class ListingsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("listings", {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"},
                                          {"MAILLON_LOGIN_BURST", "100000"},
                                          {"MAILLON_EXPIRY_INTERVAL_MS", "300"}});
    community = world->create_community("Métropole Européenne de Lille");
    other_community = world->create_community("Hénin-Carvin");
    fives = world->create_site(community, "Objetothèque de Fives", kFivesLat, kFivesLon,
                               "objetotheque");
    other_site = world->create_site(other_community, "Tiers-lieu d'Hénin", 50.42, 2.95);
    offers = std::make_unique<ServiceProcess>("offers", world->env());
    requests = std::make_unique<ServiceProcess>("requests", world->env());
    offers->start();
    requests->start();
    staff = world->register_member(community, "Nadia", fives);
    world->make_staff(fives, staff.id);
    staff.token = relogin(staff);  // roles are read at login
  }
  static void TearDownTestSuite() {
    offers.reset();
    requests.reset();
    delete world;
    world = nullptr;
  }

  static std::string relogin(const MemberInfo& m) {
    auto r = http_request(world->members->url(), "POST", "/v1/auth/login",
                          Json{{"email", m.email}, {"password", "mot-de-passe-1"}}.dump());
    return r.json()["token"];
  }
  MemberInfo member(const std::string& name, const std::string& in_community = community) {
    return world->register_member(in_community, name,
                                  in_community == community ? fives : other_site);
  }
  Client on_offers(const MemberInfo& m) const { return Client(offers->url(), m.token); }
  Client on_requests(const MemberInfo& m) const { return Client(requests->url(), m.token); }

  std::string create(const Client& c, const Json& body, const std::string& path = "/v1/offers") {
    auto r = c.post(path, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  std::string status_of(const Client& c, const std::string& id,
                        const std::string& path = "/v1/offers") {
    return c.get(path + "/" + id).json().value("status", "");
  }
  // The site.created event reaches the listing services asynchronously.
  void wait_for_site(const Client& c, const std::string& path) {
    ASSERT_TRUE(eventually([&] {
      Json body = with(good("Tabouret à prendre au lieu"), "category", "mobilier");
      body.erase("location");
      body["site_id"] = fives;
      return c.post(path, body).status == 201;
    })) << "the site never reached "
        << path;
  }
  void publish_exchange_event(const std::string& type, const Json& data) {
    Json envelope = {{"id", uuid()},
                     {"type", type},
                     {"version", 1},
                     {"occurred_at", rfc3339_in(std::chrono::seconds(0))},
                     {"community_id", community},
                     {"data", data}};
    Redis redis(redis_url());
    auto r = redis.command({"XADD", world->prefix + ":exchanges", "*", "event", envelope.dump()});
    ASSERT_FALSE(is_error(r.get())) << reply_string(r.get());
  }
  static std::string uuid() { return new_uuid(); }

  static MembersWorld* world;
  static std::unique_ptr<ServiceProcess> offers, requests;
  static std::string community, other_community, fives, other_site;
  static MemberInfo staff;
};

MembersWorld* ListingsTest::world = nullptr;
std::unique_ptr<ServiceProcess> ListingsTest::offers, ListingsTest::requests;
std::string ListingsTest::community, ListingsTest::other_community, ListingsTest::fives,
    ListingsTest::other_site;
MemberInfo ListingsTest::staff;

TEST_F(ListingsTest, create_answers_201_with_the_active_listing_of_the_caller) {
  auto alice = member("Alice");
  auto r = on_offers(alice).post("/v1/offers",
                                 with(good("Perceuse à percussion"), "tags", {"bricolage"}));
  ASSERT_EQ(r.status, 201) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["status"], "active");
  EXPECT_EQ(j["member_id"], alice.id);
  EXPECT_EQ(j["community_id"], community);
  EXPECT_EQ(j["title"], "Perceuse à percussion");
  EXPECT_EQ(j["reach_km"], 5.0);
  EXPECT_EQ(j["price_minutes"], 0);
  EXPECT_EQ(j["location"], (Json{{"lat", 50.63}, {"lon", 3.07}}));
  auto again = on_offers(alice).get("/v1/offers/" + j["id"].get<std::string>());
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.json()["title"], "Perceuse à percussion");
}

TEST_F(ListingsTest, other_members_see_an_area_never_the_exact_location) {
  auto alice = member("Alice"), bob = member("Bob");
  std::string id = create(on_offers(alice), good("Scie sauteuse", 50.63456, 3.07891));
  Json seen = on_offers(bob).get("/v1/offers/" + id).json();
  EXPECT_FALSE(seen.contains("location"));
  EXPECT_NEAR(seen["area"]["lat"].get<double>(), 50.63, 1e-9);
  EXPECT_NEAR(seen["area"]["lon"].get<double>(), 3.08, 1e-9);
  Json own = on_offers(alice).get("/v1/offers/" + id).json();
  EXPECT_EQ(own["location"]["lat"], 50.63456);
}

TEST_F(ListingsTest, member_id_status_and_unknown_fields_are_refused_on_create) {
  auto alice = member("Alice");
  Json body = good("Perceuse");
  body["member_id"] = alice.id;
  body["status"] = "active";
  body["colour"] = "rouge";
  auto r = on_offers(alice).wrong().post("/v1/offers", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers["content-type"], "application/problem+json");
  EXPECT_EQ(error_fields(r), (std::set<std::string>{"member_id", "status", "colour"}));
  auto on_requests_too =
      on_requests(alice).wrong().post("/v1/requests", with(good("Perceuse"), "id", "x"));
  EXPECT_EQ(on_requests_too.status, 400);
  EXPECT_EQ(error_fields(on_requests_too), (std::set<std::string>{"id"}));
}

TEST_F(ListingsTest, each_validation_rule_names_its_field) {
  auto alice = member("Alice");
  Json no_place = good("Perceuse");
  no_place.erase("location");
  Json lend_service = with(service("Aide aux devoirs"), "mode", "lend");
  Json no_duration = service("Aide aux devoirs");
  no_duration.erase("duration_minutes");
  std::vector<std::pair<Json, std::string>> cases = {
      {with(good("Perceuse"), "title", "ab"), "title"},
      {with(good("Perceuse"), "category", "fusees"), "category"},
      {with(good("Perceuse"), "category", "aide-aux-devoirs"), "category"},
      {with(good("Perceuse"), "kind", "chose"), "kind"},
      {lend_service, "mode"},
      {no_duration, "duration_minutes"},
      {with(good("Perceuse"), "price_minutes", -1), "price_minutes"},
      {with(good("Perceuse"), "price_minutes", 1'000'000), "price_minutes"},
      {with(good("Perceuse"), "price_minutes", 1.5), "price_minutes"},
      {with(good("Perceuse"), "location", {{"lat", 95}, {"lon", 3}}), "location.lat"},
      {with(good("Perceuse"), "location", {{"lat", 50}, {"lon", 200}}), "location.lon"},
      {no_place, "location"},
      {with(good("Perceuse"), "reach_km", 0), "reach_km"},
      {with(good("Perceuse"), "photos", {"ftp://photos/a.jpg"}), "photos[0]"},
      {with(good("Perceuse"), "available_from", "demain"), "available_from"},
      {with(with(good("Perceuse"), "available_from", rfc3339_in(std::chrono::hours(48))),
            "available_until", rfc3339_in(std::chrono::hours(24))),
       "available_until"},
      {with(good("Perceuse"), "available_until", rfc3339_in(-std::chrono::hours(1))),
       "available_until"},
      {with(good("Perceuse"), "site_id", "8b2d7c1e-0000-4000-8000-000000000000"), "site_id"},
      {with(good("Perceuse"), "site_id", other_site), "site_id"},
  };
  for (const auto& [body, field] : cases) {
    auto r = on_offers(alice).wrong().post("/v1/offers", body);
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_TRUE(error_fields(r).count(field)) << field << " not in " << r.body;
  }
}

TEST_F(ListingsTest, a_listing_at_a_site_takes_the_site_position) {
  auto alice = member("Alice");
  wait_for_site(on_offers(alice), "/v1/offers");
  wait_for_site(on_requests(alice), "/v1/requests");
  Json body = good("Escabeau à prêter");
  body.erase("location");
  body["site_id"] = fives;
  std::string id = create(on_offers(alice), body);
  Json seen = on_offers(member("Bob")).get("/v1/offers/" + id).json();
  EXPECT_EQ(seen["site_id"], fives);
  EXPECT_NEAR(seen["area"]["lat"].get<double>(), 50.63, 1e-9);
}

// Bob reads the listing anyway: refusing him its edit is a 403, not a 404 that would hide nothing.
TEST_F(ListingsTest, another_members_edit_or_close_is_403) {
  auto alice = member("Alice"), bob = member("Bob");
  std::string id = create(on_offers(alice), good("Perceuse de Alice"));
  EXPECT_EQ(on_offers(bob).patch("/v1/offers/" + id, {{"title", "Perceuse de Bob"}}).status, 403);
  EXPECT_EQ(on_offers(bob).del("/v1/offers/" + id).status, 403);
  EXPECT_EQ(on_offers(bob).get("/v1/offers/" + id).status, 200);
  EXPECT_EQ(on_offers(alice).get("/v1/offers/" + id).json()["title"], "Perceuse de Alice");
  EXPECT_EQ(on_offers(bob).patch("/v1/offers/not-an-id", {{"title", "Perceuse"}}).status, 404);
}

TEST_F(ListingsTest, members_of_another_community_get_404) {
  auto alice = member("Alice"), carol = member("Carol", other_community);
  std::string id = create(on_offers(alice), good("Perceuse de la MEL"));
  EXPECT_EQ(on_offers(carol).get("/v1/offers/" + id).status, 404);
  EXPECT_EQ(on_offers(carol).patch("/v1/offers/" + id, {{"title", "Autre"}}).status, 404);
  EXPECT_EQ(on_offers(carol).del("/v1/offers/" + id).status, 404);
  auto list = on_offers(carol).get("/v1/offers?member_id=" + alice.id);
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.json()["items"].empty());
}

TEST_F(ListingsTest, staff_of_the_site_edits_and_acting_for_a_member_is_recorded) {
  auto alice = member("Alice");
  std::string id = create(on_offers(alice), good("Tondeuse"));
  auto direct = on_offers(staff).patch("/v1/offers/" + id, {{"title", "Tondeuse électrique"}});
  ASSERT_EQ(direct.status, 200) << direct.body;
  EXPECT_EQ(direct.json()["acted_by"], staff.id);
  EXPECT_EQ(direct.json()["location"]["lat"], 50.63);  // staff see what they edit
  auto behalf = on_offers(staff).acting_for(alice.id).post("/v1/offers", good("Perceuse déposée"));
  ASSERT_EQ(behalf.status, 201) << behalf.body;
  EXPECT_EQ(behalf.json()["member_id"], alice.id);
  EXPECT_EQ(behalf.json()["acted_by"], staff.id);
  auto by_owner = on_offers(alice).patch("/v1/offers/" + id, {{"price_minutes", 30}});
  EXPECT_EQ(by_owner.json()["acted_by"], nullptr);
}

TEST_F(ListingsTest, french_search_ignores_accents_case_and_inflection) {
  auto alice = member("Alice");
  std::string drill = create(
      on_offers(alice), with(good("Perceuse à percussion"), "description", "Idéale pour le béton"));
  std::string bike = create(on_offers(alice), with(with(good("Vélo de ville"), "category", "velos"),
                                                   "tags", {"bicyclette"}));
  auto search = [&](const std::string& q) {
    auto r = on_offers(alice).get("/v1/offers?member_id=me&q=" + q);
    EXPECT_EQ(r.status, 200) << r.body;
    return ids_of(r);
  };
  EXPECT_EQ(search("perceuse"), std::vector<std::string>{drill});
  EXPECT_EQ(search("PERCEUSES"), std::vector<std::string>{drill});
  EXPECT_EQ(search("beton"), std::vector<std::string>{drill});
  EXPECT_EQ(search("velo"), std::vector<std::string>{bike});
  EXPECT_EQ(search("v%C3%A9lo"), std::vector<std::string>{bike});
  EXPECT_EQ(search("bicyclettes"), std::vector<std::string>{bike});
  EXPECT_TRUE(search("tondeuse").empty());
  // Bytes that are no UTF-8 text are said so, not taken for a text too long.
  auto garbled = on_offers(alice).wrong().get("/v1/offers?q=%FF%FE");
  ASSERT_EQ(garbled.status, 400) << garbled.body;
  EXPECT_EQ(garbled.json()["errors"][0]["message"], "doit être un texte UTF-8 valide");
}

TEST_F(ListingsTest, filters_category_with_descendants_kind_mode_site_and_member) {
  auto alice = member("Alice");
  wait_for_site(on_offers(alice), "/v1/offers");
  std::string drill = create(on_offers(alice), good("Perceuse sans fil"));
  std::string help = create(on_offers(alice), service("Aide aux devoirs de maths"));
  Json at_site = with(good("Jouets à donner"), "category", "jouets");
  at_site["mode"] = "give";
  at_site["site_id"] = fives;
  std::string toys = create(on_offers(alice), at_site);
  auto ids = [&](const std::string& query) {
    auto r = on_offers(alice).get("/v1/offers?member_id=" + alice.id + "&" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return ids_of(r);
  };
  EXPECT_EQ(ids("category=outils-et-bricolage"), std::vector<std::string>{drill});
  EXPECT_EQ(ids("category=biens").size(), 3u);  // drill, toys and the wait_for_site listing
  EXPECT_EQ(ids("kind=service"), std::vector<std::string>{help});
  EXPECT_EQ(ids("mode=give"), std::vector<std::string>{toys});
  EXPECT_EQ(ids("site_id=" + fives + "&category=jouets"), std::vector<std::string>{toys});
  EXPECT_EQ(on_offers(alice).get("/v1/offers?category=fusees").status, 400);
  EXPECT_EQ(on_offers(alice).get("/v1/offers?status=perdu").status, 400);
  EXPECT_EQ(on_offers(alice).get("/v1/offers?kind=chose").status, 400);
}

TEST_F(ListingsTest, near_filters_by_radius_and_gives_bucketed_distances) {
  auto alice = member("Alice"), bob = member("Bob");
  const double lat = 50.60, lon = 3.00;
  // About 400 m, 2.6 km and 20 km north of the point.
  std::vector<double> north_m = {400, 2600, 20000};
  std::vector<std::string> ids;
  for (double m : north_m)
    ids.push_back(create(on_offers(alice), good("Perceuse à " + std::to_string(int(m)) + " m",
                                                lat + m / 111195.0, lon)));
  auto r = on_offers(bob).get("/v1/offers?member_id=" + alice.id + "&near=50.6,3.0&radius_km=5");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json items = r.json()["items"];
  ASSERT_EQ(items.size(), 2u) << r.body;
  auto snapped = [](double a, double b) { return matching::snap_to_grid({a, b}); };
  for (const auto& item : items) {
    std::size_t i = item["id"] == ids[0] ? 0 : 1;
    ASSERT_EQ(item["id"], ids[i]);
    double exact =
        matching::haversine_m(snapped(lat, lon), snapped(lat + north_m[i] / 111195.0, lon));
    EXPECT_EQ(item["distance_m"].get<int64_t>(), distance_bucket_m(exact)) << item.dump();
    EXPECT_EQ(item["distance_m"].get<int64_t>() % (exact <= 1000 ? 100 : 500), 0);
    EXPECT_FALSE(item.contains("location"));
  }
  auto without_near = on_offers(bob).get("/v1/offers?member_id=" + alice.id);
  EXPECT_FALSE(without_near.json()["items"][0].contains("distance_m"));
  EXPECT_EQ(on_offers(bob).get("/v1/offers?near=91,3&radius_km=5").status, 400);
  EXPECT_EQ(on_offers(bob).get("/v1/offers?radius_km=5").status, 400);
}

TEST_F(ListingsTest, pagination_never_repeats_or_skips_under_concurrent_inserts) {
  auto alice = member("Alice");
  std::set<std::string> before;
  for (int i = 0; i < 45; ++i)
    before.insert(create(on_offers(alice), good("Objet n°" + std::to_string(i))));
  std::atomic<bool> paging{true};
  std::atomic<int> inserted{0};
  std::thread writer([&] {
    while (paging) {
      if (on_offers(alice).post("/v1/offers", good("Objet ajouté pendant la lecture")).status ==
          201)
        ++inserted;
    }
  });
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    auto r = on_offers(alice).get("/v1/offers?member_id=me&limit=7" +
                                  (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& id : ids_of(r)) seen.push_back(id);
    if (r.json()["next_cursor"].is_null()) break;
    cursor = r.json()["next_cursor"];
  }
  paging = false;
  writer.join();
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a listing was listed twice";
  for (const auto& id : before) EXPECT_TRUE(unique.count(id)) << id << " was skipped";
  EXPECT_GT(inserted.load(), 0);
  EXPECT_EQ(on_offers(alice).get("/v1/offers?cursor=bm90LWEtY3Vyc29y").status, 400);
}

TEST_F(ListingsTest, owner_pauses_resumes_and_closes) {
  auto alice = member("Alice");
  Client c = on_offers(alice);
  std::string id = create(c, good("Ponceuse"));
  auto paused = c.patch("/v1/offers/" + id, {{"status", "paused"}});
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(paused.json()["status"], "paused");
  EXPECT_TRUE(ids_of(c.get("/v1/offers?member_id=me")).empty());
  EXPECT_EQ(ids_of(c.get("/v1/offers?member_id=me&status=paused")), std::vector<std::string>{id});
  EXPECT_EQ(c.patch("/v1/offers/" + id, {{"status", "active"}}).json()["status"], "active");
  auto refused = c.wrong().patch("/v1/offers/" + id, {{"status", "closed"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(error_fields(refused), std::set<std::string>{"status"});
  EXPECT_EQ(c.wrong().patch("/v1/offers/" + id, {{"member_id", alice.id}}).status, 400);
  EXPECT_EQ(c.del("/v1/offers/" + id).status, 204);
  EXPECT_EQ(status_of(c, id), "closed");
  EXPECT_EQ(c.del("/v1/offers/" + id).status, 204);  // closing twice changes nothing
  EXPECT_EQ(c.patch("/v1/offers/" + id, {{"status", "active"}}).status, 409);
}

TEST_F(ListingsTest, the_periodic_job_expires_listings_whose_window_ended) {
  auto alice = member("Alice");
  std::string id = create(on_offers(alice), with(good("Perceuse ce soir"), "available_until",
                                                 rfc3339_in(std::chrono::seconds(2))));
  EXPECT_EQ(status_of(on_offers(alice), id), "active");
  EXPECT_TRUE(eventually([&] { return status_of(on_offers(alice), id) == "expired"; }, 10000));
}

TEST_F(ListingsTest, exchange_events_reserve_release_and_close_the_listings_they_name) {
  auto alice = member("Alice");
  std::string offer = create(on_offers(alice), good("Perceuse à réserver"));
  std::string request = create(on_requests(alice), good("Cherche une scie"), "/v1/requests");
  std::string first = uuid(), second = uuid();
  publish_exchange_event("exchange.accepted",
                         {{"exchange_id", first}, {"offer_id", offer}, {"request_id", request}});
  EXPECT_TRUE(eventually([&] { return status_of(on_offers(alice), offer) == "reserved"; }));
  EXPECT_TRUE(eventually(
      [&] { return status_of(on_requests(alice), request, "/v1/requests") == "reserved"; }));
  // Declining another proposal on the same offer does not free it.
  publish_exchange_event("exchange.declined", {{"exchange_id", second}, {"offer_id", offer}});
  publish_exchange_event("exchange.something_new", {{"exchange_id", first}, {"offer_id", offer}});
  publish_exchange_event("exchange.cancelled", {{"exchange_id", first}, {"offer_id", offer}});
  EXPECT_TRUE(eventually([&] { return status_of(on_offers(alice), offer) == "active"; }));
  publish_exchange_event("exchange.accepted", {{"exchange_id", second}, {"offer_id", offer}});
  publish_exchange_event("exchange.completed", {{"exchange_id", second}, {"offer_id", offer}});
  EXPECT_TRUE(eventually([&] { return status_of(on_offers(alice), offer) == "closed"; }));
  EXPECT_EQ(status_of(on_requests(alice), request, "/v1/requests"), "reserved");
}

// No service keeps a session in memory: the logout's tombstone is in Redis before the members
// service answers, so the very next request to another service is refused, every time.
TEST_F(ListingsTest, a_logged_out_token_is_refused_by_the_next_request) {
  MemberInfo zoe = member("Zoé");
  for (int round = 0; round < 20; ++round) {
    MemberInfo session = zoe;
    session.token = relogin(zoe);
    ASSERT_EQ(on_offers(session).get("/v1/offers?q=velo").status, 200);
    ASSERT_EQ(on_offers(session).get("/v1/offers?q=velo").status, 200);
    ASSERT_EQ(Client(world->members->url(), session.token).post("/v1/auth/logout").status, 204);
    EXPECT_EQ(on_offers(session).get("/v1/offers?q=velo").status, 401) << "round " << round;
  }
}

TEST_F(ListingsTest, categories_are_served_as_a_tree_to_anyone) {
  auto r = Client(offers->url()).get("/v1/categories");
  ASSERT_EQ(r.status, 200) << r.body;
  Json roots = r.json()["items"];
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[0]["slug"], "biens");
  EXPECT_EQ(roots[0]["children"][0]["slug"], "outils-et-bricolage");
  EXPECT_EQ(roots[0]["children"][0]["children"][0]["label"], "Perceuses et visseuses");
  EXPECT_EQ(roots[1]["slug"], "services");
}

TEST_F(ListingsTest, every_published_event_validates_against_its_schema) {
  auto alice = member("Alice");
  for (const std::string path : {"/v1/offers", "/v1/requests"}) {
    Client c(path == "/v1/offers" ? offers->url() : requests->url(), alice.token);
    std::string id = create(c, with(service("Cours de guitare"), "category", "musique"), path);
    ASSERT_EQ(c.patch(path + "/" + id, {{"status", "paused"}, {"tags", {"guitare"}}}).status, 200);
    ASSERT_EQ(c.del(path + "/" + id).status, 204);
  }
  const std::set<std::string> expected = {"offer.published",   "offer.updated",   "offer.closed",
                                          "request.published", "request.updated", "request.closed"};
  std::vector<Json> events;
  std::set<std::string> types;
  Redis redis(redis_url());
  // The relay publishes within milliseconds of each commit; wait until every type is there.
  bool all_seen = eventually([&] {
    events.clear();
    types.clear();
    for (const std::string stream : {"offers", "requests"}) {
      auto entries = redis.command({"XRANGE", world->prefix + ":" + stream, "-", "+"});
      for (std::size_t i = 0; i < entries->elements; ++i) {
        const redisReply* fields = entries->element[i]->element[1];
        events.push_back(Json::parse(reply_string(fields->element[1])));
        types.insert(events.back()["type"].get<std::string>());
      }
    }
    return std::includes(types.begin(), types.end(), expected.begin(), expected.end());
  });
  EXPECT_TRUE(all_seen) << "published types: " << Json(types).dump();
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  for (const Json& event : events) {
    std::string type = event["type"];
    auto violations = schemas.validate(type + ".schema.json", event);
    EXPECT_TRUE(violations.empty()) << type << ": " << violations.front() << "\n" << event.dump();
  }
}

TEST(JsonSchemaValidator, reports_missing_wrong_and_extra_fields) {
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  Json event = {{"id", "6f1c2a9e-8d1b-4c47-9b5e-1f0a2b3c4d5e"},
                {"type", "offer.closed"},
                {"version", 1},
                {"occurred_at", "2026-05-01T10:00:00.123456Z"},
                {"community_id", "6f1c2a9e-8d1b-4c47-9b5e-1f0a2b3c4d5f"},
                {"data",
                 {{"id", "6f1c2a9e-8d1b-4c47-9b5e-1f0a2b3c4d60"},
                  {"side", "offer"},
                  {"member_id", "6f1c2a9e-8d1b-4c47-9b5e-1f0a2b3c4d61"},
                  {"reason", "expired"},
                  {"acted_by", nullptr}}}};
  EXPECT_TRUE(schemas.validate("offer.closed.schema.json", event).empty());
  Json broken = event;
  broken["data"]["reason"] = "lost";
  broken["data"].erase("member_id");
  broken["data"]["extra"] = 1;
  broken["occurred_at"] = "hier";
  broken["id"] = "not-a-uuid";
  EXPECT_EQ(schemas.validate("offer.closed.schema.json", broken).size(), 5u);
  EXPECT_FALSE(schemas.validate("offer.updated.schema.json", event).empty());
}

}  // namespace
}  // namespace maillon::testing
