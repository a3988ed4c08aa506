// Issue 21's invariant "every listing's state agrees with its exchanges", when the offers and
// requests consumers read an exchange's events out of order: an end (cancel, decline, expiry)
// read before that exchange's own accept must not leave the listing reserved by an exchange that
// is over. Events go straight onto the exchanges stream (as an outbox republished after a Redis
// restart, or entries claimed after a kill -9, deliver them); real PostgreSQL and Redis.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <ctime>

#include "harness.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

std::string rfc3339_now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return out;
}

// A `give` listing: the one an accepted exchange reserves and its completion closes.
Json given(const std::string& title) {
  return {{"kind", "good"},
          {"mode", "give"},
          {"category", "mobilier"},
          {"title", title},
          {"location", {{"lat", 50.63}, {"lon", 3.07}}}};
}

class ListingExchangeOrderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("listing_exchanges");
    community = world->create_community("Métropole Européenne de Lille");
    site = world->create_site(community, "Tiers-lieu de Fives", 50.6297, 3.0917);
    offers = std::make_unique<ServiceProcess>("offers", world->env());
    requests = std::make_unique<ServiceProcess>("requests", world->env());
    offers->start();
    requests->start();
    owner = world->register_member(community, "Amandine", site);
  }
  static void TearDownTestSuite() {
    offers.reset();
    requests.reset();
    delete world;
    world = nullptr;
  }

  Client on(const std::unique_ptr<ServiceProcess>& service) const {
    return Client(service->url(), owner.token);
  }
  std::string create(const std::unique_ptr<ServiceProcess>& service, const std::string& path,
                     const std::string& title) {
    auto r = on(service).post(path, given(title));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  std::string offer(const std::string& title) { return create(offers, "/v1/offers", title); }
  std::string request(const std::string& title) { return create(requests, "/v1/requests", title); }
  std::string status_of(const std::string& offer_id) {
    return on(offers).get("/v1/offers/" + offer_id).json().value("status", "");
  }
  std::string request_status_of(const std::string& request_id) {
    return on(requests).get("/v1/requests/" + request_id).json().value("status", "");
  }
  void publish(const std::string& type, const Json& data) {
    Json envelope = {
        {"id", new_uuid()},          {"type", type}, {"version", 1}, {"occurred_at", rfc3339_now()},
        {"community_id", community}, {"data", data}};
    Redis redis(redis_url());
    auto r = redis.command({"XADD", world->prefix + ":exchanges", "*", "event", envelope.dump()});
    ASSERT_FALSE(is_error(r.get())) << reply_string(r.get());
  }
  // Each consumer reads the stream in order: once a marker exchange published last has reserved
  // its own listings, every event published before it has been applied by both services.
  void wait_until_applied() {
    const std::string marker_offer = offer("Repère : étagère"),
                      marker_request = request("Repère : cherche une étagère");
    publish(
        "exchange.accepted",
        {{"exchange_id", new_uuid()}, {"offer_id", marker_offer}, {"request_id", marker_request}});
    ASSERT_TRUE(eventually([&] { return status_of(marker_offer) == "reserved"; }));
    ASSERT_TRUE(eventually([&] { return request_status_of(marker_request) == "reserved"; }));
  }

  static MembersWorld* world;
  static std::unique_ptr<ServiceProcess> offers, requests;
  static std::string community, site;
  static MemberInfo owner;
};

MembersWorld* ListingExchangeOrderTest::world = nullptr;
std::unique_ptr<ServiceProcess> ListingExchangeOrderTest::offers,
    ListingExchangeOrderTest::requests;
std::string ListingExchangeOrderTest::community, ListingExchangeOrderTest::site;
MemberInfo ListingExchangeOrderTest::owner;

TEST_F(ListingExchangeOrderTest, an_accept_read_after_its_own_exchanges_end_reserves_nothing) {
  for (const char* end : {"exchange.cancelled", "exchange.declined", "exchange.expired"}) {
    SCOPED_TRACE(end);
    const std::string o = offer("Armoire normande à donner"), r = request("Cherche une armoire");
    const Json names = {{"exchange_id", new_uuid()}, {"offer_id", o}, {"request_id", r}};
    publish(end, names);
    publish("exchange.accepted", names);
    wait_until_applied();
    EXPECT_EQ(status_of(o), "active");
    EXPECT_EQ(request_status_of(r), "active");
    // A live exchange still reserves the listing, and its completion closes it.
    const Json next = {{"exchange_id", new_uuid()}, {"offer_id", o}, {"request_id", r}};
    publish("exchange.accepted", next);
    EXPECT_TRUE(eventually([&] { return status_of(o) == "reserved"; }));
    publish("exchange.completed", next);
    EXPECT_TRUE(eventually([&] { return status_of(o) == "closed"; }));
    EXPECT_TRUE(eventually([&] { return request_status_of(r) == "closed"; }))
        << on(requests).get("/v1/requests/" + r).body;
  }
}

TEST_F(ListingExchangeOrderTest, a_swap_read_out_of_order_leaves_both_listings_free) {
  const std::string taken = offer("Vélo d'enfant à troquer"), given_away = offer("Trottinette");
  const Json names = {
      {"exchange_id", new_uuid()}, {"offer_id", taken}, {"given_offer_id", given_away}};
  publish("exchange.cancelled", names);
  publish("exchange.accepted", names);
  wait_until_applied();
  EXPECT_EQ(status_of(taken), "active");
  EXPECT_EQ(status_of(given_away), "active");
}

TEST_F(ListingExchangeOrderTest, in_order_an_accept_reserves_and_its_end_releases_or_closes) {
  const std::string o = offer("Table de jardin"), r = request("Cherche une table");
  const Json first = {{"exchange_id", new_uuid()}, {"offer_id", o}, {"request_id", r}};
  publish("exchange.accepted", first);
  EXPECT_TRUE(eventually([&] { return status_of(o) == "reserved"; }));
  EXPECT_TRUE(eventually([&] { return request_status_of(r) == "reserved"; }));
  publish("exchange.cancelled", first);
  EXPECT_TRUE(eventually([&] { return status_of(o) == "active"; }));
  EXPECT_TRUE(eventually([&] { return request_status_of(r) == "active"; }));
  // The ended exchange's accept redelivered (at-least-once) after its end: still nothing.
  publish("exchange.accepted", first);
  wait_until_applied();
  EXPECT_EQ(status_of(o), "active");
  const Json second = {{"exchange_id", new_uuid()}, {"offer_id", o}, {"request_id", r}};
  publish("exchange.accepted", second);
  EXPECT_TRUE(eventually([&] { return status_of(o) == "reserved"; }));
  publish("exchange.accepted", second);  // redelivered: the same reservation
  publish("exchange.completed", second);
  EXPECT_TRUE(eventually([&] { return status_of(o) == "closed"; }));
  EXPECT_TRUE(eventually([&] { return request_status_of(r) == "closed"; }))
      << on(requests).get("/v1/requests/" + r).body;
}

}  // namespace
}  // namespace maillon::testing
