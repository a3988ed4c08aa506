// Depot items seen from the rest of Maillon: as offers in the offers service's search (placed at
// their site), as candidates of the matching engine, and on the exchange service's site desk.
// The depot, offers, requests, matching and exchange processes share one world.
#include <gtest/gtest.h>

#include <set>

#include "depot_world.hpp"
#include "json_schema.hpp"

namespace maillon::testing {
namespace {

constexpr int kPropagationMs = 10'000;  // depot outbox -> Redis -> another service's consumer
constexpr int64_t kUnclaimedDays = 3;

class DepotListings : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    w = new DepotWorld("listings", {{"unclaimed_days", kUnclaimedDays}});
    for (const char* name : {"offers", "requests", "matching", "exchange"}) {
      services[name] = std::make_unique<ServiceProcess>(name, w->world.env());
      services[name]->start();
    }
    alice = w->member("Alice");
    other_community = w->world.create_community("Ailleurs");
    std::string other_site = w->world.create_site(other_community, "Autre lieu", 50.63, 3.06);
    stranger = w->world.register_member(other_community, "Zoe", other_site);
  }
  static void TearDownTestSuite() {
    services.clear();
    delete w;
  }

  static Client on(const char* service, const MemberInfo& m) {
    return Client(services.at(service)->url(), m.token);
  }
  // The offers service's view of the item (404 until its event arrives).
  static HttpResult offer(const std::string& id, const MemberInfo& m) {
    return on("offers", m).get("/v1/offers/" + id);
  }
  static bool offer_status_is(const std::string& id, const std::string& status) {
    const HttpResult r = offer(id, alice);
    return r.status == 200 && r.json()["status"] == status;
  }
  static std::set<std::string> ids_found(const MemberInfo& m, const std::string& query) {
    const HttpResult r = on("offers", m).get("/v1/offers?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> ids;
    const Json j = r.json();
    for (const auto& item : j.value("items", Json::array())) ids.insert(item["id"]);
    return ids;
  }
  static Json desk() {
    const HttpResult r = Client(services.at("exchange")->url(), w->staff.token)
                             .get("/v1/sites/" + w->site + "/desk");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.json() : Json::object();
  }
  static bool desk_lists(const char* section, const std::string& id) {
    const Json d = desk();
    for (const auto& item : d.value(section, Json::array())) {
      if (item["id"] == id) return true;
    }
    return false;
  }
  static void ok(const HttpResult& r) { ASSERT_EQ(r.status, 200) << r.body; }

  static inline DepotWorld* w = nullptr;
  static inline std::map<std::string, std::unique_ptr<ServiceProcess>> services;
  static inline MemberInfo alice, stranger;
  static inline std::string other_community;
};

TEST_F(DepotListings, an_item_taken_in_is_an_offer_at_its_site_for_its_community_only) {
  const std::string id = w->intake("give", 2000);
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "active"); }, kPropagationMs));

  const std::string near = "near=50.64,3.06&radius_km=3";
  // The search may serve from its own index, a moment behind the listing itself.
  EXPECT_TRUE(eventually(
      [&] { return ids_found(alice, "q=perceuse&category=perceuses&" + near).count(id) == 1; },
      kPropagationMs));
  EXPECT_EQ(ids_found(alice, "q=perceuse&near=50.90,3.06&radius_km=3").count(id), 0u);
  const Json found = on("offers", alice).get("/v1/offers?q=perceuse&" + near).json();
  for (const auto& o : found["items"]) {
    if (o["id"] != id) continue;
    // About 1.1 km between the snapped points, shown in 500 m steps above 1 km.
    EXPECT_GE(o["distance_m"].get<int64_t>(), 1000);
    EXPECT_LE(o["distance_m"].get<int64_t>(), 1500);
    EXPECT_EQ(o["source"], "depot");
  }

  const Json o = offer(id, alice).json();
  EXPECT_EQ(o["source"], "depot");
  EXPECT_EQ(o["depot_item_id"], id);
  EXPECT_EQ(o["site_id"], w->site);
  EXPECT_EQ(o["member_id"], w->site);  // owned by the site, no member behind it
  EXPECT_EQ(o["kind"], "good");
  EXPECT_EQ(o["mode"], "give");
  EXPECT_EQ(o["title"], "Perceuse à percussion");
  EXPECT_DOUBLE_EQ(o["area"]["lat"].get<double>(), 50.63);
  EXPECT_DOUBLE_EQ(o["area"]["lon"].get<double>(), 3.06);

  // Another community's member, at the same place, sees nothing of it.
  EXPECT_EQ(ids_found(stranger, "q=perceuse&" + near).count(id), 0u);
  EXPECT_EQ(offer(id, stranger).status, 404);
  // Only the depot changes it, not its staff nor a member through the offers service.
  EXPECT_EQ(on("offers", alice).patch("/v1/offers/" + id, {{"title", "Autre"}}).status, 403);
  EXPECT_EQ(on("offers", w->staff).del("/v1/offers/" + id).status, 403);

  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  ASSERT_TRUE(eventually([&] {
    for (const auto& e : w->events("offers")) {
      if (e.data()["id"] == id) return true;
    }
    return false;
  }));
  for (const auto& e : w->events("offers")) {
    if (e.data()["id"] != id) continue;
    EXPECT_EQ(e.type(), "offer.published");
    EXPECT_EQ(e.data()["location_source"], "site");
    EXPECT_TRUE(schemas.validate(e.type() + ".schema.json", e.envelope).empty()) << e.envelope;
  }
}

TEST_F(DepotListings, a_reserved_item_leaves_active_search_and_a_collected_one_is_closed) {
  const std::string id = w->intake("give", 800);
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "active"); }, kPropagationMs));
  ok(w->as(alice).post("/v1/items/" + id + "/reserve"));
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "reserved"); }, kPropagationMs));
  EXPECT_TRUE(
      eventually([&] { return ids_found(alice, "q=perceuse&site_id=" + w->site).count(id) == 0; },
                 kPropagationMs));

  ok(w->desk().post("/v1/items/" + id + "/release"));
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "active"); }, kPropagationMs));
  EXPECT_TRUE(
      eventually([&] { return ids_found(alice, "q=perceuse&site_id=" + w->site).count(id) == 1; },
                 kPropagationMs));

  ok(w->as(alice).post("/v1/items/" + id + "/reserve"));
  ok(w->desk().post("/v1/items/" + id + "/collect", Json::object()));
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "closed"); }, kPropagationMs));
  EXPECT_TRUE(eventually(
      [&] { return ids_found(alice, "status=closed&site_id=" + w->site).count(id) == 1; },
      kPropagationMs));

  // Every depot event of the item follows its schema, the reservation naming its reserver.
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  int64_t last_revision = -1;
  for (const auto& e : w->events("depot")) {
    if (e.data().value("item_id", "") != id) continue;
    EXPECT_TRUE(schemas.validate(e.type() + ".schema.json", e.envelope).empty()) << e.envelope;
    EXPECT_GT(e.data()["revision"].get<int64_t>(), last_revision);
    last_revision = e.data()["revision"].get<int64_t>();
    if (e.type() == "item.reserved") {
      EXPECT_EQ(e.data()["reserved_by_member_id"], alice.id);
    }
  }
  EXPECT_EQ(last_revision, 4);  // intake 0, reserve, release, reserve, collect
}

TEST_F(DepotListings, a_lent_item_is_reserved_then_active_again_once_returned) {
  const std::string id = w->intake("lend", 1200);
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "active"); }, kPropagationMs));
  EXPECT_EQ(offer(id, alice).json()["mode"], "lend");
  ok(w->desk().post("/v1/items/" + id + "/lend",
                    {{"member_id", alice.id}, {"due_at", rfc3339(w->clock_s + 7 * kDayS)}}));
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "reserved"); }, kPropagationMs));
  ok(w->desk().post("/v1/items/" + id + "/return", {{"condition", "fair"}}));
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "active"); }, kPropagationMs));
}

TEST_F(DepotListings, a_request_near_the_site_for_the_category_is_matched_with_the_item) {
  const std::string id = w->intake("give", 1500);
  ASSERT_TRUE(eventually([&] { return offer_status_is(id, "active"); }, kPropagationMs));
  const MemberInfo bob = w->member("Bob");
  const HttpResult posted =
      on("requests", bob)
          .post("/v1/requests", {{"kind", "good"},
                                 {"mode", "give"},
                                 {"category", "perceuses"},
                                 {"title", "Cherche une perceuse"},
                                 {"location", {{"lat", 50.635}, {"lon", 3.065}}},
                                 {"reach_km", 3}});
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string request = posted.json()["id"];
  auto matched = [&] {
    const HttpResult r = on("matching", bob).get("/v1/matches?listing=request:" + request);
    if (r.status != 200) return false;
    const Json j = r.json();
    for (const auto& m : j["items"]) {
      if (m["offer_id"] == id) return true;
    }
    return false;
  };
  EXPECT_TRUE(eventually(matched, kPropagationMs));
}

TEST_F(DepotListings, the_desk_lists_a_reserved_item_until_it_is_handed_out) {
  const std::string id = w->intake("give", 600);
  const HttpResult reserved = w->as(alice).post("/v1/items/" + id + "/reserve");
  ok(reserved);
  ASSERT_TRUE(eventually([&] { return desk_lists("items_to_hand_out", id); }, kPropagationMs));
  const Json d = desk();
  for (const auto& item : d["items_to_hand_out"]) {
    if (item["id"] != id) continue;
    EXPECT_EQ(item["title"], "Perceuse à percussion");
    EXPECT_EQ(item["reserved_by"], "Alice");
    EXPECT_EQ(item["reserved_by_member_id"], alice.id);
    EXPECT_EQ(item["reserved_until"], reserved.json()["reserved_until"]);
    EXPECT_EQ(item["status"], "reserved");
  }
  // Members do not see the desk.
  EXPECT_EQ(on("exchange", alice).get("/v1/sites/" + w->site + "/desk").status, 403);

  ok(w->desk().post("/v1/items/" + id + "/collect", Json::object()));
  EXPECT_TRUE(eventually([&] { return !desk_lists("items_to_hand_out", id); }, kPropagationMs));
}

// Last of the suite: it moves the depot's clock days ahead.
TEST_F(DepotListings, the_desk_lists_unclaimed_items_to_redirect_until_they_leave) {
  const std::string id = w->intake("give", 900);
  w->advance((kUnclaimedDays + 1) * kDayS);
  ASSERT_TRUE(eventually([&] { return desk_lists("items_to_redirect", id); }, kPropagationMs));
  EXPECT_FALSE(desk_lists("items_to_hand_out", id));
  ok(w->desk().post("/v1/items/" + id + "/redirect", {{"outlet", "reuse"}, {"partner", "Emmaüs"}}));
  EXPECT_TRUE(eventually([&] { return !desk_lists("items_to_redirect", id); }, kPropagationMs));
  EXPECT_TRUE(eventually([&] { return offer_status_is(id, "closed"); }, kPropagationMs));
}

}  // namespace
}  // namespace maillon::testing
