// Two replicas of the matching service on one database and one Redis: the consumer group hands
// each listing event to one of them, and the read model's change feed brings it into the other
// one's index. Every pair is matched once (one stored match, one match.proposed), both replicas
// answer for every listing, and killing one replica mid-run loses no pair.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <map>
#include <thread>

#include "harness.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

Json body(const std::string& title, double lat, double lon) {
  return {{"kind", "good"},
          {"mode", "lend"},
          {"category", "perceuses"},
          {"title", title},
          {"location", {{"lat", lat}, {"lon", lon}}},
          {"reach_km", 2}};
}

// match.proposed events on the stream, counted by match id.
std::map<std::string, int> proposed_by_match(const std::string& prefix) {
  std::map<std::string, int> out;
  Redis redis(redis_url());
  const auto r = redis.command({"XRANGE", prefix + ":matches", "-", "+"});
  for (std::size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
    const redisReply* fields = r->element[i]->element[1];
    const Json event = Json::parse(std::string(fields->element[1]->str, fields->element[1]->len));
    if (event.value("type", "") == "match.proposed") ++out[event["data"]["id"].get<std::string>()];
  }
  return out;
}

TEST(MatchingReplicas, two_replicas_match_every_pair_once_even_when_one_is_killed) {
  MembersWorld world("matching_replicas", {{"MAILLON_RECLAIM_IDLE_MS", "1000"}});
  const std::string community = world.create_community("Lille métropole");
  const MemberInfo lender = world.register_member(community, "Lina");
  const MemberInfo borrower = world.register_member(community, "Basile");
  ServiceProcess offers("offers", world.env()), requests("requests", world.env());
  offers.start();
  requests.start();
  ServiceProcess first("matching", world.env()), second("matching", world.env());
  first.start();
  second.start();

  // 24 pairs, each in its own spot ~10 km from the others; the offer and the request of a pair
  // are posted at the same moment, so their events often go to different replicas.
  const int pairs = 24;
  std::vector<std::pair<std::string, std::string>> posted(pairs);
  for (int i = 0; i < pairs; ++i) {
    const double lat = 50.0 + 0.1 * (i / 6), lon = 2.0 + 0.15 * (i % 6);
    if (i == pairs / 2) second.kill9();  // mid-run: its pending events go to the first
    std::thread offer_thread([&, i] {
      posted[i].first = Client(offers.url(), lender.token)
                            .post("/v1/offers", body("Perceuse " + std::to_string(i), lat, lon))
                            .json()
                            .value("id", "");
    });
    posted[i].second = Client(requests.url(), borrower.token)
                           .post("/v1/requests", body("Cherche perceuse", lat, lon + 0.002))
                           .json()
                           .value("id", "");
    offer_thread.join();
    ASSERT_FALSE(posted[i].first.empty());
    ASSERT_FALSE(posted[i].second.empty());
  }

  // Every request gets exactly its own offer as a match, on the surviving replica.
  for (int i = 0; i < pairs; ++i) {
    const std::string path = "/v1/matches?listing=request:" + posted[i].second;
    EXPECT_TRUE(eventually(
        [&] {
          const auto r = Client(first.url(), borrower.token).get(path);
          if (r.status != 200) return false;
          const Json page = r.json();
          return page["items"].size() == 1 &&
                 page["items"][0].dump().find(posted[i].first) != std::string::npos;
        },
        15000))
        << "pair " << i;
  }
  // One event per pair, never two, though two replicas may both have found it.
  const auto events = proposed_by_match(world.prefix);
  EXPECT_EQ(events.size(), static_cast<std::size_t>(pairs));
  for (const auto& [match, count] : events) EXPECT_EQ(count, 1) << match;

  // The replica restarted from the read model answers the same.
  second.start();
  const auto r =
      Client(second.url(), borrower.token).get("/v1/matches?listing=request:" + posted[0].second);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["items"].size(), 1u);
}

}  // namespace
}  // namespace maillon::testing
