// Two replicas of the matching service on one database and one Redis: the consumer group hands
// each listing event to one of them, and the read model's change feed brings it into the other
// one's index. Every pair is matched once (one stored match, one match.proposed), both replicas
// answer for every listing, and killing one replica mid-run loses no pair.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <cmath>
#include <map>
#include <pqxx/pqxx>
#include <set>
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

// The ids of the match.proposed events on the stream, by match id. A relay killed between its
// XADD and its commit publishes the same event again (delivery is at least once, and consumers
// skip an event id they applied): the same id twice is one event; two ids would be two matches.
std::map<std::string, std::set<std::string>> proposed_by_match(const std::string& prefix) {
  std::map<std::string, std::set<std::string>> out;
  Redis redis(redis_url());
  const auto r = redis.command({"XRANGE", prefix + ":matches", "-", "+"});
  for (std::size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
    const redisReply* fields = r->element[i]->element[1];
    const Json event = Json::parse(std::string(fields->element[1]->str, fields->element[1]->len));
    if (event.value("type", "") == "match.proposed") {
      out[event["data"]["id"].get<std::string>()].insert(event.value("id", ""));
    }
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
  for (const auto& [match, ids] : events) EXPECT_EQ(ids.size(), 1u) << match;

  // The replica restarted from the read model answers the same.
  second.start();
  const auto r =
      Client(second.url(), borrower.token).get("/v1/matches?listing=request:" + posted[0].second);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["items"].size(), 1u);
}

// Two members' identical offers and one request beside them, with one process of offers,
// requests and matching: scored alike until something sets the two owners apart. rescored()
// edits the request (matching scores it again with both offers) and reads its matches' scores.
struct TwoOffersOneRequest {
  MembersWorld world;
  std::string community = world.create_community("Lille métropole");
  MemberInfo first, second, asker;
  ServiceProcess offers{"offers", world.env()}, requests{"requests", world.env()};
  ServiceProcess matching{"matching", world.env()};
  std::string first_offer, second_offer, request;
  std::map<std::string, double> scores;
  int edits = 0;

  TwoOffersOneRequest(const std::string& label, const std::string& first_name,
                      const std::string& second_name)
      : world(label),
        first(world.register_member(community, first_name)),
        second(world.register_member(community, second_name)),
        asker(world.register_member(community, "Wassim")) {
    for (ServiceProcess* p : {&offers, &requests, &matching}) p->start();
  }
  // One statement with one parameter, committed, as another process would write it.
  void write(const std::string& sql, const std::string& param) {
    pqxx::connection conn(world.database);
    pqxx::work tx(conn);
    tx.exec_params(sql, param);
    tx.commit();
  }
  void post() {
    first_offer = posted(offers.url(), first, "/v1/offers", body("Perceuse", 50.63, 3.07));
    second_offer = posted(offers.url(), second, "/v1/offers", body("Perceuse", 50.63, 3.07));
    // The offers and the request reach matching on two streams, through two relays: a request
    // applied before an offer would make that pair proposed to the asker, not to the offer's
    // owner, and the owners would no longer be alike. The request waits for both offers
    // (matching answers 404 to a listing's owner until it holds the listing).
    for (const auto& [owner, offer] : {std::pair{&first, first_offer}, {&second, second_offer}}) {
      EXPECT_TRUE(eventually(
          [&, owner = owner, offer = offer] {
            return Client(matching.url(), owner->token)
                       .get("/v1/matches?listing=offer:" + offer)
                       .status == 200;
          },
          15000))
          << "matching never stored offer " << offer;
    }
    request = posted(requests.url(), asker, "/v1/requests", body("Cherche perceuse", 50.63, 3.072));
  }
  bool rescored() {
    Client(requests.url(), asker.token)
        .patch("/v1/requests/" + request, {{"description", "version " + std::to_string(++edits)}});
    scores.clear();
    const HttpResult r =
        Client(matching.url(), asker.token).get("/v1/matches?listing=request:" + request);
    if (r.status != 200) return false;
    const Json page = r.json();
    for (const Json& m : page["items"]) {
      scores[m["offer_id"].get<std::string>()] = m["score"].get<double>();
    }
    return scores.count(first_offer) == 1 && scores.count(second_offer) == 1;
  }
  // How much the second owner's pair scores above the first's (0 while alike).
  double lead() { return scores[second_offer] - scores[first_offer]; }
  bool lead_becomes(double expected) {
    return eventually([&] { return rescored() && std::abs(lead() - expected) < 0.002; }, 15000);
  }

 private:
  static std::string posted(const std::string& url, const MemberInfo& who, const std::string& path,
                            const Json& listing) {
    const HttpResult r = Client(url, who.token).post(path, listing);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
};

// Each exchange event reaches one replica, whose consumer counts the outcome in
// member_reliability and updates its own engine; the other replicas must score with it too.
// Here the count is written as another replica's consumer writes it (this replica never gets
// the event): the two pairs part by the reliability term once the replica has followed it.
TEST(MatchingReplicas, a_reliability_counted_by_another_replica_reaches_this_ones_scores) {
  TwoOffersOneRequest w("matching_reliability", "Xavier", "Yasmine");
  w.post();
  ASSERT_TRUE(w.lead_becomes(0)) << "the request never matched both offers alike";
  w.write(
      "INSERT INTO matching.member_reliability (member_id, completed, abandoned) VALUES "
      "($1::uuid, 0, 1) ON CONFLICT (member_id) DO UPDATE SET abandoned = "
      "member_reliability.abandoned + 1, written_by_xact = pg_current_xact_id()",
      w.first.id);
  // Reliability 1/2 → 1/3 at a weight of 0.15.
  EXPECT_TRUE(w.lead_becomes(0.15 * (1.0 / 2 - 1.0 / 3)))
      << "absent " << w.scores[w.first_offer] << ", steady " << w.scores[w.second_offer];
}

// A new pair is counted against the member proposed to (the spread term: one active provider
// should not receive every request) by the replica that stored it. The count lives in the
// database: another replica's count reaches this one's scores, two replicas never hold different
// counts for long, and a restart keeps them.
TEST(MatchingReplicas, proposals_counted_by_another_replica_reach_this_ones_scores_and_a_restart) {
  TwoOffersOneRequest w("matching_spread", "Bertille", "Quentin");
  // Proposals of three weeks ago no longer count, and go when the member is counted again.
  w.write(
      "INSERT INTO matching.member_proposals (member_id, day, received) "
      "VALUES ($1::uuid, current_date - 21, 7)",
      w.first.id);
  w.post();
  ASSERT_TRUE(w.lead_becomes(0)) << "the request never matched both offers alike: "
                                 << w.scores[w.first_offer] << ", " << w.scores[w.second_offer];
  // Each owner was proposed to once, and that count is in the database (the old day is gone).
  const auto counted = [&](const MemberInfo& who) {
    pqxx::connection conn(w.world.database);
    pqxx::work tx(conn);
    return tx
        .exec_params1(
            "SELECT COALESCE(sum(received), 0) FROM matching.member_proposals "
            "WHERE member_id = $1::uuid",
            who.id)[0]
        .as<int>();
  };
  EXPECT_EQ(counted(w.first), 1);
  EXPECT_EQ(counted(w.second), 1);

  // Three more pairs for one owner, counted as another replica's consumer counts them.
  w.write(
      "INSERT INTO matching.member_proposals (member_id, day, received) "
      "VALUES ($1::uuid, current_date, 3) ON CONFLICT (member_id, day) DO UPDATE SET "
      "received = member_proposals.received + 3, written_by_xact = pg_current_xact_id()",
      w.first.id);
  // Spread 1/(1 + 1/5) → 1/(1 + 4/5) at a weight of 0.10.
  const double parted = 0.10 * (1.0 / 1.2 - 1.0 / 1.8);
  EXPECT_TRUE(w.lead_becomes(parted))
      << "busy " << w.scores[w.first_offer] << ", quiet " << w.scores[w.second_offer];

  // A replica started afresh reads the counts back: the same pair scores the same.
  w.matching.kill9();
  w.matching.start();
  EXPECT_TRUE(w.lead_becomes(parted))
      << "busy " << w.scores[w.first_offer] << ", quiet " << w.scores[w.second_offer];
  EXPECT_EQ(counted(w.first), 4);
  EXPECT_EQ(counted(w.second), 1);
}

}  // namespace
}  // namespace maillon::testing
