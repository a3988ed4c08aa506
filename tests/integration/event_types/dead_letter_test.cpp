// Typed events on the real stack (PostgreSQL, Redis, the offers service as a process): an event
// whose type nobody declared, whose enum value is unknown or that lacks a field its reader
// requires goes to the dead-letter stream at once (no retries) with the reason, and nothing is
// applied; the events after it are applied as before.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "harness.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

struct DeadLetter {
  std::string type;
  std::string error;
};

class DeadLetterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Retries would take 1000 deliveries: a dead letter seen within seconds came at once.
    world = new MembersWorld("typed_events", {{"MAILLON_MAX_DELIVERIES", "1000"}});
    community = world->create_community("Typed events");
    offers = std::make_unique<ServiceProcess>("offers", world->env());
    offers->start();
    alice = world->register_member(community, "Alice");
  }
  static void TearDownTestSuite() {
    offers.reset();
    delete world;
    world = nullptr;
  }

  // An offer reserved by exchange `exchange`, as the exchanges stream tells the offers service.
  static std::string reserved_offer(const std::string& exchange) {
    const Json body = {{"kind", "good"},
                       {"mode", "lend"},
                       {"category", "perceuses"},
                       {"title", "Perceuse à prêter"},
                       {"location", {{"lat", 50.63}, {"lon", 3.07}}}};
    std::string id;
    EXPECT_TRUE(eventually([&] {
      const HttpResult r = Client(offers->url(), alice.token).post("/v1/offers", body);
      if (r.status == 201) id = r.json()["id"];
      return r.status == 201;
    }));
    publish("exchange.accepted", {{"exchange_id", exchange}, {"offer_id", id}});
    EXPECT_TRUE(eventually([&] { return status_of(id) == "reserved"; }));
    return id;
  }
  static std::string status_of(const std::string& offer) {
    return Client(offers->url(), alice.token).get("/v1/offers/" + offer).json().value("status", "");
  }
  static void publish(const std::string& type, const Json& data) {
    const Json envelope = {{"id", new_uuid()},
                           {"type", type},
                           {"version", 1},
                           {"occurred_at", "2026-05-01T10:00:00Z"},
                           {"community_id", community},
                           {"data", data}};
    Redis redis(redis_url());
    auto r = redis.command({"XADD", world->prefix + ":exchanges", "*", "event", envelope.dump()});
    ASSERT_FALSE(is_error(r.get())) << reply_string(r.get());
  }
  // What the offers service's consumer group sent to exchanges.dead.
  static std::vector<DeadLetter> dead_letters() {
    std::vector<DeadLetter> out;
    Redis redis(redis_url());
    auto r = redis.command({"XRANGE", world->prefix + ":exchanges.dead", "-", "+"});
    if (!r || r->type != REDIS_REPLY_ARRAY) return out;
    for (std::size_t i = 0; i < r->elements; ++i) {
      const redisReply* fields = r->element[i]->element[1];
      std::map<std::string, std::string> f;
      for (std::size_t k = 0; k + 1 < fields->elements; k += 2)
        f[reply_string(fields->element[k])] = reply_string(fields->element[k + 1]);
      if (f["group"] != "maillon-offers") continue;
      const Json event = Json::parse(f["event"], nullptr, false);
      out.push_back({event.is_object() ? event.value("type", "") : "", f["error"]});
    }
    return out;
  }
  // Waits for a dead letter of `type` whose reason is `error`.
  static bool dead_lettered(const std::string& type, const std::string& error) {
    return eventually([&] {
      for (const DeadLetter& d : dead_letters()) {
        if (d.type == type && d.error == error) return true;
      }
      return false;
    });
  }

  static MembersWorld* world;
  static std::unique_ptr<ServiceProcess> offers;
  static std::string community;
  static MemberInfo alice;
};
MembersWorld* DeadLetterTest::world = nullptr;
std::unique_ptr<ServiceProcess> DeadLetterTest::offers;
std::string DeadLetterTest::community;
MemberInfo DeadLetterTest::alice;

TEST_F(DeadLetterTest, an_unknown_resolution_outcome_is_dead_lettered_and_closes_nothing) {
  const std::string exchange = new_uuid();
  const std::string offer = reserved_offer(exchange);
  // Read as "post" before: the listing closed as if credits had been paid.
  publish(
      "exchange.resolved",
      {{"exchange_id", exchange},
       {"offer_id", offer},
       {"state", "resolved"},
       {"resolution",
        {{"outcome", "postt"}, {"minutes", 0}, {"absent_member_id", nullptr}, {"note", nullptr}}}});
  ASSERT_TRUE(dead_lettered("exchange.resolved", "unknown resolution.outcome \"postt\""));
  EXPECT_EQ(status_of(offer), "reserved");
  // The stream flows on: a void resolution frees the listing.
  publish(
      "exchange.resolved",
      {{"exchange_id", exchange},
       {"offer_id", offer},
       {"state", "resolved"},
       {"resolution",
        {{"outcome", "void"}, {"minutes", 0}, {"absent_member_id", nullptr}, {"note", nullptr}}}});
  EXPECT_TRUE(eventually([&] { return status_of(offer) == "active"; }));
}

TEST_F(DeadLetterTest, an_unknown_exchange_state_is_dead_lettered_and_releases_nothing) {
  const std::string exchange = new_uuid();
  const std::string offer = reserved_offer(exchange);
  publish("exchange.cancelled",
          {{"exchange_id", exchange}, {"offer_id", offer}, {"state", "cancellled"}});
  ASSERT_TRUE(dead_lettered("exchange.cancelled", "unknown state \"cancellled\""));
  EXPECT_EQ(status_of(offer), "reserved");
}

TEST_F(DeadLetterTest, a_missing_field_is_dead_lettered_with_its_name) {
  const std::string exchange = new_uuid();
  const std::string offer = reserved_offer(exchange);
  publish("exchange.cancelled", {{"offer_id", offer}, {"state", "cancelled"}});
  ASSERT_TRUE(dead_lettered("exchange.cancelled", "missing field exchange_id"));
  EXPECT_EQ(status_of(offer), "reserved");
  // A resolution event without its resolution is no reason to close the listing either.
  publish("exchange.resolved", {{"exchange_id", exchange}, {"offer_id", offer}});
  ASSERT_TRUE(dead_lettered("exchange.resolved", "missing field resolution"));
  EXPECT_EQ(status_of(offer), "reserved");
}

TEST_F(DeadLetterTest, an_undeclared_type_is_dead_lettered_and_a_declared_one_unused_is_skipped) {
  const std::string exchange = new_uuid();
  const std::string offer = reserved_offer(exchange);
  publish("exchange.reopened", {{"exchange_id", exchange}, {"offer_id", offer}});
  ASSERT_TRUE(dead_lettered("exchange.reopened", "unknown event type \"exchange.reopened\""));
  // exchange.message is declared and means nothing to a listing: acknowledged, not dead.
  publish("exchange.message", {{"exchange_id", exchange}, {"offer_id", offer}});
  publish("exchange.cancelled", {{"exchange_id", exchange}, {"offer_id", offer}});
  EXPECT_TRUE(eventually([&] { return status_of(offer) == "active"; }));
  for (const DeadLetter& d : dead_letters()) EXPECT_NE(d.type, "exchange.message") << d.error;
}

}  // namespace
}  // namespace maillon::testing
