// The matching service end to end: listings posted on the offers and requests services become
// matches for both owners, disappear when paused, respect the rules, survive a restart, and
// answers never carry another member's position.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "harness.hpp"
#include "json_schema.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Real offers/requests services when they are built; otherwise their events are written on the
// streams by hand, in the envelope and payload of schemas/events/listing.schema.json.
bool real_listing_services() {
  for (const char* name : {"offers", "requests"}) {
    const std::string bin =
        std::string(MAILLON_BINARY_DIR) + "/services/" + name + "/maillon-" + name;
    if (access(bin.c_str(), X_OK) != 0) return false;
  }
  return true;
}

struct Spot {
  double lat;
  double lon;
};

// Each test works in its own area, ~70 km from the others: beyond every reach.
Spot area(int n) {
  return {50.3, 1.0 + 1.0 * n};
}
Spot east_of(Spot s, double metres) {
  return {s.lat, s.lon + metres / (111'320.0 * 0.6374)};
}

Json listing_body(const std::string& category, const std::string& mode, const std::string& title,
                  Spot at, double reach_km = 5) {
  return {{"kind", mode == "service" ? "service" : "good"},
          {"mode", mode},
          {"category", category},
          {"title", title},
          {"location", {{"lat", at.lat}, {"lon", at.lon}}},
          {"reach_km", reach_km}};
}

class MatchingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("matching");
    community = world->create_community("Lille métropole");
    real = real_listing_services();
    if (real) {
      offers = new ServiceProcess("offers", world->env());
      requests = new ServiceProcess("requests", world->env());
      offers->start();
      requests->start();
    }
    matching = new ServiceProcess("matching", world->env());
    matching->start();
    std::printf("[ matching ] listings come from %s\n",
                real ? "the offers and requests services" : "hand-written events");
  }
  static void TearDownTestSuite() {
    delete matching;
    delete requests;
    delete offers;
    delete world;
  }

  static MemberInfo member(const std::string& name) {
    return world->register_member(community, name);
  }
  static Client on_matching(const MemberInfo& m) { return Client(matching->url(), m.token); }

  // Posts a listing; returns its id once the listing service answered 201.
  static std::string post(const MemberInfo& m, const std::string& side, const Json& body) {
    if (real) {
      const Client c(side == "offer" ? offers->url() : requests->url(), m.token);
      const auto r = c.post("/v1/" + side + "s", body);
      EXPECT_EQ(r.status, 201) << r.body;
      return r.json().value("id", "");
    }
    Json data = body;
    data["id"] = fake_uuid();
    data["side"] = side;
    data["member_id"] = m.id;
    data["community_id"] = community;
    data["status"] = "active";
    publish(side, side + ".published", data);
    return data["id"];
  }

  static void pause(const MemberInfo& m, const std::string& side, const std::string& id) {
    change(m, side, id, {{"status", "paused"}});
  }

  // Patches the listing on its service (or publishes its update), e.g. a new category.
  static void change(const MemberInfo& m, const std::string& side, const std::string& id,
                     const Json& fields) {
    if (real) {
      const Client c(side == "offer" ? offers->url() : requests->url(), m.token);
      const auto r = c.patch("/v1/" + side + "s/" + id, fields);
      ASSERT_EQ(r.status, 200) << r.body;
      return;
    }
    static int updates = 0;
    char updated_at[32];
    std::snprintf(updated_at, sizeof updated_at, "2030-01-01T00:%02d:%02dZ", updates / 60,
                  updates % 60);
    ++updates;
    Json data = sent.at(id);
    for (const auto& [k, v] : fields.items()) data[k] = v;
    data["updated_at"] = updated_at;
    publish(side, side + ".updated", data);
  }

  static Json matches(const Client& c, const std::string& query) {
    const auto r = c.get("/v1/matches?" + query);
    return r.status == 200 ? r.json() : Json{{"status", r.status}};
  }
  static std::size_t match_count(const Client& c, const std::string& query) {
    const Json j = matches(c, query);
    return j.contains("items") ? j["items"].size() : 0;
  }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* offers = nullptr;
  static inline ServiceProcess* requests = nullptr;
  static inline ServiceProcess* matching = nullptr;
  static inline std::string community;
  static inline bool real = false;
  static inline std::map<std::string, Json> sent;

 private:
  // Unique within a run of this process; good enough for ids nobody else writes.
  static std::string fake_uuid() {
    static unsigned n = 0;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012x", static_cast<unsigned>(getpid()),
                  ++n);
    return buf;
  }
  static void publish(const std::string& side, const std::string& type, Json data) {
    const Json defaults = {{"description", ""},
                           {"tags", Json::array()},
                           {"site_id", nullptr},
                           {"location_source", "member"},
                           {"price_minutes", 0},
                           {"duration_minutes", nullptr},
                           {"available_from", nullptr},
                           {"available_until", nullptr},
                           {"photos", Json::array()},
                           {"created_at", "2026-01-01T00:00:00Z"},
                           {"updated_at", "2026-01-01T00:00:00Z"},
                           {"acted_by", nullptr}};
    for (const auto& [k, v] : defaults.items()) {
      if (!data.contains(k)) data[k] = v;
    }
    sent[data["id"]] = data;
    const Json envelope = {{"id", fake_uuid()},
                           {"type", type},
                           {"version", 1},
                           {"occurred_at", "2026-01-01T00:00:00Z"},
                           {"community_id", community},
                           {"data", data}};
    Redis redis(redis_url());
    redis.command({"XADD", world->prefix + ":" + side + "s", "*", "event", envelope.dump()});
  }
};

TEST_F(MatchingTest, request_near_matching_offer_yields_match_for_both_owners_quickly) {
  const MemberInfo alice = member("Alice"), bob = member("Bob");
  const Spot here = area(0);
  const std::string offer =
      post(alice, "offer", listing_body("perceuses", "lend", "Perceuse Bosch", here));
  ASSERT_TRUE(eventually([&] { return matching->running(); }));
  // Let the offer reach the engine first: the request is the listing whose latency we measure.
  ASSERT_TRUE(eventually(
      [&] { return on_matching(alice).get("/v1/matches?listing=offer:" + offer).status == 200; }));

  const auto posted = Clock::now();
  const std::string request = post(
      bob, "request", listing_body("perceuses", "lend", "Cherche perceuse", east_of(here, 600)));
  ASSERT_TRUE(eventually(
      [&] { return match_count(on_matching(bob), "listing=request:" + request) == 1; }, 5000));
  const auto latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - posted).count();
  std::printf("[ matching ] listing 201 -> match visible: %.0f ms\n", latency_ms);

  const Json mine = matches(on_matching(bob), "listing=request:" + request);
  const Json& m = mine["items"][0];
  EXPECT_EQ(m["offer_id"], offer);
  EXPECT_EQ(m["request_id"], request);
  EXPECT_EQ(m["status"], "proposed");
  // 600 m apart, measured between 250 m privacy cells, then rounded up to 100 m.
  const int64_t distance_m = m["distance_m"];
  EXPECT_TRUE(distance_m >= 400 && distance_m <= 900 && distance_m % 100 == 0) << distance_m;
  EXPECT_GT(m["score"].get<double>(), 0);
  EXPECT_EQ(matches(on_matching(alice), "listing=offer:" + offer)["items"][0]["id"], m["id"]);
  EXPECT_EQ(matches(on_matching(alice), "member=me")["items"][0]["id"], m["id"]);
  EXPECT_EQ(matches(on_matching(alice), "member=me")["next_cursor"], nullptr);
}

TEST_F(MatchingTest, pausing_the_offer_removes_its_matches) {
  const MemberInfo alice = member("Alice"), bob = member("Bob");
  const Spot here = area(1);
  const std::string offer =
      post(alice, "offer", listing_body("tondeuses", "lend", "Tondeuse", here));
  ASSERT_TRUE(eventually(
      [&] { return on_matching(alice).get("/v1/matches?listing=offer:" + offer).status == 200; }));
  const std::string request =
      post(bob, "request", listing_body("tondeuses", "lend", "Tondeuse", here));
  ASSERT_TRUE(
      eventually([&] { return match_count(on_matching(bob), "listing=request:" + request) == 1; }));

  pause(alice, "offer", offer);
  EXPECT_TRUE(
      eventually([&] { return match_count(on_matching(bob), "listing=request:" + request) == 0; }));
  EXPECT_EQ(match_count(on_matching(bob), "member=me"), 0u);
  // A listing posted after the pause does not meet the paused offer either.
  const MemberInfo carol = member("Carol");
  const std::string later =
      post(carol, "request", listing_body("tondeuses", "lend", "Tondeuse", here));
  ASSERT_TRUE(eventually([&] {
    return on_matching(carol).get("/v1/matches?listing=request:" + later).status == 200;
  }));
  EXPECT_EQ(match_count(on_matching(carol), "listing=request:" + later), 0u);
}

TEST_F(MatchingTest, changing_category_or_place_withdraws_matches_that_no_longer_hold) {
  const MemberInfo alice = member("Alice"), bob = member("Bob"), carol = member("Carol");
  const Spot here = area(6);
  const std::string offer =
      post(alice, "offer", listing_body("perceuses", "lend", "Perceuse", here));
  ASSERT_TRUE(eventually(
      [&] { return on_matching(alice).get("/v1/matches?listing=offer:" + offer).status == 200; }));
  const std::string drill =
      post(bob, "request", listing_body("perceuses", "lend", "Perceuse", east_of(here, 300)));
  const std::string tools =
      post(carol, "request", listing_body("outils-et-bricolage", "lend", "Outils", here));
  ASSERT_TRUE(
      eventually([&] { return match_count(on_matching(alice), "listing=offer:" + offer) == 2; }));

  // Now a mower: unrelated to drills and to tools; both matches go, for both sides.
  change(alice, "offer", offer, {{"category", "tondeuses"}});
  EXPECT_TRUE(
      eventually([&] { return match_count(on_matching(alice), "listing=offer:" + offer) == 0; }));
  EXPECT_EQ(match_count(on_matching(bob), "listing=request:" + drill), 0u);
  EXPECT_EQ(match_count(on_matching(carol), "member=me"), 0u);

  // Back to drills: proposed again. Then Bob moves 20 km away, out of both reaches: only
  // Carol's match is left.
  change(alice, "offer", offer, {{"category", "perceuses"}});
  ASSERT_TRUE(
      eventually([&] { return match_count(on_matching(alice), "listing=offer:" + offer) == 2; }));
  const Spot far = east_of(here, 20'000);
  change(bob, "request", drill, {{"location", {{"lat", far.lat}, {"lon", far.lon}}}});
  EXPECT_TRUE(
      eventually([&] { return match_count(on_matching(bob), "listing=request:" + drill) == 0; }));
  EXPECT_EQ(match_count(on_matching(alice), "listing=offer:" + offer), 1u);
  EXPECT_EQ(match_count(on_matching(carol), "member=me"), 1u);
}

TEST_F(MatchingTest, same_member_and_out_of_reach_are_never_matched) {
  const MemberInfo carol = member("Carol"), dan = member("Dan"), eve = member("Eve");
  const Spot here = area(2);
  const std::string own_offer =
      post(carol, "offer", listing_body("vaisselle", "give", "Assiettes", here, 2));
  const std::string far_offer =
      post(eve, "offer", listing_body("vaisselle", "give", "Assiettes", east_of(here, 8000), 2));
  ASSERT_TRUE(eventually([&] {
    return on_matching(eve).get("/v1/matches?listing=offer:" + far_offer).status == 200;
  }));
  const std::string own_request =
      post(carol, "request", listing_body("vaisselle", "give", "Assiettes", here, 2));
  // Dan's request arrives after Carol's: once it is matched with her offer, hers was handled.
  const std::string control =
      post(dan, "request", listing_body("vaisselle", "give", "Assiettes", here, 2));
  ASSERT_TRUE(
      eventually([&] { return match_count(on_matching(dan), "listing=request:" + control) == 1; }));

  EXPECT_EQ(match_count(on_matching(carol), "listing=request:" + own_request), 0u);  // own offer
  EXPECT_EQ(matches(on_matching(dan), "listing=request:" + control)["items"][0]["offer_id"],
            own_offer);
  EXPECT_EQ(match_count(on_matching(eve), "listing=offer:" + far_offer), 0u);  // 8 km, reach 2 km
}

TEST_F(MatchingTest, either_owner_dismisses_and_others_cannot) {
  const MemberInfo alice = member("Alice"), bob = member("Bob"), mallory = member("Mallory");
  const Spot here = area(3);
  const std::string offer =
      post(alice, "offer", listing_body("plantes-et-graines", "give", "Graines de tomate", here));
  ASSERT_TRUE(eventually(
      [&] { return on_matching(alice).get("/v1/matches?listing=offer:" + offer).status == 200; }));
  const std::string request =
      post(bob, "request", listing_body("plantes-et-graines", "give", "Graines", here));
  ASSERT_TRUE(
      eventually([&] { return match_count(on_matching(bob), "listing=request:" + request) == 1; }));
  const std::string id = matches(on_matching(bob), "listing=request:" + request)["items"][0]["id"];

  EXPECT_EQ(on_matching(mallory).get("/v1/matches?listing=offer:" + offer).status, 404);
  EXPECT_EQ(on_matching(mallory).post("/v1/matches/" + id + "/dismiss").status, 404);
  EXPECT_EQ(on_matching(bob).get("/v1/matches?listing=offer:" + offer).status, 404);  // not his
  EXPECT_EQ(Client(matching->url()).get("/v1/matches?member=me").status, 401);
  EXPECT_EQ(on_matching(alice).post("/v1/matches/" + id + "/dismiss").status, 204);
  EXPECT_EQ(match_count(on_matching(alice), "listing=offer:" + offer), 0u);
  EXPECT_EQ(match_count(on_matching(bob), "listing=request:" + request), 0u);
}

TEST_F(MatchingTest, matches_query_parameters_are_validated) {
  const Client c = on_matching(member("Zoé"));
  const std::vector<std::string> queries = {"", "listing=offer:nope",
                                            "listing=thing:" + std::string(36, 'a'), "member=you"};
  for (const std::string& q : queries) {
    const auto r = c.get("/v1/matches?" + q);
    EXPECT_EQ(r.status, 400) << q;
    const Json problem = r.json();
    EXPECT_FALSE(problem["errors"].empty()) << q;
  }
}

TEST_F(MatchingTest, nearby_ranks_listings_with_bucketed_distances_and_no_positions) {
  const MemberInfo alice = member("Alice"), bob = member("Bob");
  const Spot here = area(4);
  const std::string near = post(
      alice, "offer", listing_body("echelles-et-escabeaux", "lend", "Échelle", east_of(here, 300)));
  const std::string far =
      post(alice, "offer",
           listing_body("echelles-et-escabeaux", "lend", "Escabeau", east_of(here, 2600)));
  const std::string mine =
      post(bob, "offer", listing_body("echelles-et-escabeaux", "lend", "Échelle", here));
  const Client c = on_matching(bob);
  const std::string path = "/v1/nearby?lat=" + std::to_string(here.lat) +
                           "&lon=" + std::to_string(here.lon) +
                           "&radius_km=5&category=echelles-et-escabeaux&kind=offer";
  ASSERT_TRUE(eventually([&] {
    const auto r = c.get(path);
    return r.status == 200 && r.json()["items"].size() == 2;
  }));
  const Json j = c.get(path).json();
  EXPECT_EQ(j["items"][0]["id"], near);
  EXPECT_EQ(j["items"][1]["id"], far);
  for (const auto& item : j["items"]) {
    EXPECT_NE(item["id"], mine);  // one's own listings are not "nearby"
    const int64_t d = item["distance_m"];
    EXPECT_TRUE(d < 1000 ? d % 100 == 0 : d % 500 == 0) << d;
    EXPECT_FALSE(item.contains("location") || item.contains("lat") || item.contains("lon"));
    EXPECT_EQ(item["side"], "offer");
  }
  EXPECT_EQ(j["items"][1]["distance_m"], 3000);

  const auto bad = c.get("/v1/nearby?lat=95&radius_km=900&category=licornes&kind=both");
  ASSERT_EQ(bad.status, 400);
  std::set<std::string> fields;
  const Json problem = bad.json();
  for (const auto& e : problem["errors"]) fields.insert(e["field"]);
  EXPECT_EQ(fields, (std::set<std::string>{"lat", "lon", "radius_km", "category", "kind"}));
}

TEST_F(MatchingTest, nearby_items_name_owner_and_status_and_show_a_coarse_area_only) {
  const MemberInfo carol = member("Carole"), dan = member("Dan");
  const Spot here = area(8);
  // Off the 0.01° grid on both axes, so that its coarse area cannot be the spot itself.
  const Spot spot = {here.lat + 0.00371, east_of(here, 290).lon};
  const std::string id =
      post(carol, "offer", listing_body("echelles-et-escabeaux", "lend", "Escabeau pliant", spot));
  const Client c = on_matching(dan);
  const std::string path = "/v1/nearby?lat=" + std::to_string(here.lat) +
                           "&lon=" + std::to_string(here.lon) + "&radius_km=2";
  ASSERT_TRUE(eventually([&] {
    const auto r = c.get(path);
    return r.status == 200 && r.json()["items"].size() == 1;
  }));
  const Json item = c.get(path).json()["items"][0];
  EXPECT_EQ(item["id"], id);
  EXPECT_EQ(item["member_id"], carol.id);
  EXPECT_EQ(item["status"], "active");
  ASSERT_TRUE(item.contains("area")) << item;
  const Json& at = item["area"];
  EXPECT_EQ(at.size(), 2u) << at;
  EXPECT_DOUBLE_EQ(at["lat"].get<double>(), std::round(spot.lat * 100) / 100);
  EXPECT_DOUBLE_EQ(at["lon"].get<double>(), std::round(spot.lon * 100) / 100);
  EXPECT_GT(std::abs(at["lat"].get<double>() - spot.lat), 1e-3) << at;
  EXPECT_GT(std::abs(at["lon"].get<double>() - spot.lon), 1e-3) << at;
  EXPECT_FALSE(item.contains("location") || item.contains("lat") || item.contains("lon"));
}

TEST_F(MatchingTest, match_proposed_events_follow_their_schema) {
  // Its own pair: ctest runs each test in a process (and a world) of its own.
  const MemberInfo alice = member("Alice"), bob = member("Bob");
  const Spot here = area(7);
  const std::string offer =
      post(alice, "offer", listing_body("perceuses", "lend", "Perceuse à prêter", here));
  ASSERT_TRUE(eventually(
      [&] { return on_matching(alice).get("/v1/matches?listing=offer:" + offer).status == 200; }));
  post(bob, "request", listing_body("perceuses", "lend", "Cherche perceuse", east_of(here, 400)));
  ASSERT_TRUE(eventually([&] {
    Redis redis(redis_url());
    const auto r = redis.command({"XLEN", world->prefix + ":matches"});
    return r && r->type == REDIS_REPLY_INTEGER && r->integer > 0;
  }));
  Redis redis(redis_url());
  const auto r = redis.command({"XRANGE", world->prefix + ":matches", "-", "+"});
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  for (std::size_t i = 0; i < r->elements; ++i) {
    const redisReply* fields = r->element[i]->element[1];
    const Json event = Json::parse(std::string(fields->element[1]->str, fields->element[1]->len));
    EXPECT_EQ(event["type"], "match.proposed");
    const auto errors = schemas.validate("match.proposed.schema.json", event);
    EXPECT_TRUE(errors.empty()) << event.dump() << "\n" << (errors.empty() ? "" : errors[0]);
  }
}

// Last: it restarts the shared matching process.
TEST_F(MatchingTest, restart_rebuilds_the_index_from_the_read_model) {
  const MemberInfo alice = member("Alice"), bob = member("Bob"), carol = member("Carol");
  const Spot here = area(5);
  const std::string offer =
      post(alice, "offer", listing_body("outils-de-jardin", "lend", "Bêche", here));
  ASSERT_TRUE(eventually(
      [&] { return on_matching(alice).get("/v1/matches?listing=offer:" + offer).status == 200; }));
  const std::string request =
      post(bob, "request", listing_body("outils-de-jardin", "lend", "Bêche", here));
  ASSERT_TRUE(
      eventually([&] { return match_count(on_matching(bob), "listing=request:" + request) == 1; }));

  matching->kill9();
  matching->start();
  EXPECT_EQ(match_count(on_matching(bob), "listing=request:" + request), 1u);
  // The offer is back in the engine although no event about it was read again.
  const std::string second =
      post(carol, "request", listing_body("outils-de-jardin", "lend", "Bêche", here));
  EXPECT_TRUE(eventually(
      [&] { return match_count(on_matching(carol), "listing=request:" + second) == 1; }));
  EXPECT_EQ(matches(on_matching(carol), "listing=request:" + second)["items"][0]["offer_id"],
            offer);
}

}  // namespace
}  // namespace maillon::testing
