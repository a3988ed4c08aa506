// Services between members end to end through the nginx gateway (issue #19): an offered service
// is given again and again, up to its capacity of concurrent exchanges, and stays active
// throughout; a no-show lowers the absent member's match score, which the matching engine
// weighs by reliability.
#include <gtest/gtest.h>

#include <array>
#include <barrier>
#include <cmath>
#include <ctime>
#include <map>
#include <thread>

#include "e2e/e2e_suite.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

class E2eServicesTest : public E2eSuite {
 protected:
  static std::string posted(const MemberInfo& owner, const std::string& path, const Json& body) {
    auto r = unless_busy([&] { return as(owner).post(path, body); });
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  static std::string offer_status(const MemberInfo& who, const std::string& id) {
    return unless_busy([&] { return as(who).get("/v1/offers/" + id); }).json().value("status", "");
  }
  static HttpResult act(const MemberInfo& who, const std::string& id, const std::string& action) {
    return unless_busy([&] { return as(who).post("/v1/exchanges/" + id + "/" + action); });
  }
  // A gift of nothing accepted now: the offers service reserves it from the exchanges stream,
  // after every exchange event published before; seeing it reserved says the service read them.
  static void offers_caught_up(const MemberInfo& owner, const MemberInfo& taker) {
    const std::string gift = posted(owner, "/v1/offers", gift_offer(0));
    auto taken = propose(taker, {{"offer_id", gift}});
    ASSERT_EQ(taken.status, 201) << taken.body;
    ASSERT_EQ(act(owner, taken.json()["id"], "accept").status, 202);
    ASSERT_TRUE(poll_until([&] { return offer_status(owner, gift) == "reserved"; }));
  }
  // The scores of a request's matches, by offer.
  static std::map<std::string, double> scores_of(const MemberInfo& owner,
                                                 const std::string& request_id) {
    std::map<std::string, double> scores;
    auto r = unless_busy(
        [&] { return as(owner).get("/v1/matches?listing=request:" + request_id + "&limit=50"); });
    if (r.status != 200) return scores;
    const Json page = r.json();
    for (const Json& m : page["items"]) {
      scores[m["offer_id"].get<std::string>()] = m["score"].get<double>();
    }
    return scores;
  }
};

TEST_F(E2eServicesTest, one_tutoring_offer_serves_three_members_two_at_a_time_and_stays_active) {
  const StaffedCommunity c = staffed_community("Soutien scolaire");
  const MemberInfo tutor = member(c, "mathilde");
  const std::array<MemberInfo, 3> pupils = {member(c, "noe"), member(c, "rose"),
                                            member(c, "yacine")};
  const MemberInfo late = member(c, "zelie");
  Json body = service_offer(20);
  body["capacity"] = 2;
  const std::string offer_id = posted(tutor, "/v1/offers", body);
  std::array<std::string, 3> ids;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto created = propose(pupils[i], {{"offer_id", offer_id}});
    ASSERT_EQ(created.status, 201) << created.body;
    ids[i] = created.json()["id"];
  }

  // The three accepts arrive together: PostgreSQL lets two through.
  std::array<HttpResult, 3> answers;
  std::barrier start(3);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      answers[i] = act(tutor, ids[i], "accept");
    });
  }
  for (auto& t : threads) t.join();
  std::size_t refused = ids.size();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (answers[i].status == 202) continue;
    EXPECT_EQ(answers[i].status, 409) << answers[i].body;
    EXPECT_EQ(answers[i].json()["code"], "capacity-reached");
    EXPECT_EQ(refused, ids.size()) << "a second accept refused";
    refused = i;
  }
  ASSERT_LT(refused, ids.size()) << "three accepts on a service with room for two";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != refused) {
      ASSERT_TRUE(state_becomes(tutor, ids[i], "accepted"));
    }
  }
  EXPECT_EQ(state_of(pupils[refused], ids[refused]), "proposed");
  EXPECT_EQ(act(tutor, ids[refused], "accept").json().value("code", ""), "capacity-reached");
  auto turned_away = propose(late, {{"offer_id", offer_id}});
  EXPECT_EQ(turned_away.status, 409) << turned_away.body;
  EXPECT_EQ(turned_away.json().value("code", ""), "capacity-reached");
  offers_caught_up(tutor, late);
  const Json shown = unless_busy([&] { return as(late).get("/v1/offers/" + offer_id); }).json();
  EXPECT_EQ(shown["status"], "active");
  EXPECT_EQ(shown["capacity"], 2);

  // One lesson given: its place goes to the member refused, and the offer is still active.
  const std::size_t done = refused == 0 ? 1 : 0;
  ASSERT_EQ(act(tutor, ids[done], "complete").status, 200);
  ASSERT_EQ(act(pupils[done], ids[done], "complete").status, 200);
  ASSERT_TRUE(state_becomes(tutor, ids[done], "completed"));
  EXPECT_TRUE(balance_becomes(tutor, {kSignupBonus + 20, 0, 20, kSignupBonus + 20}))
      << balance_of(tutor);
  auto served = act(tutor, ids[refused], "accept");
  ASSERT_EQ(served.status, 202) << served.body;
  ASSERT_TRUE(state_becomes(pupils[refused], ids[refused], "accepted"));
  offers_caught_up(tutor, late);
  EXPECT_EQ(offer_status(late, offer_id), "active");
  EXPECT_TRUE(balance_becomes(tutor, {kSignupBonus + 20, 0, 40, kSignupBonus + 20}))
      << balance_of(tutor);
}

// Two members post the same tutoring at the same spot; a request matches both alike. One of
// them then misses a lesson they had agreed to take: the same pair, scored again, ranks lower,
// while the other's is unchanged.
TEST_F(E2eServicesTest, a_no_show_lowers_the_absent_members_match_score) {
  const StaffedCommunity c = staffed_community("Fiabilité");
  const MemberInfo absent = member(c, "xavier"), steady = member(c, "yasmine");
  const MemberInfo asker = member(c, "wassim"), host = member(c, "zoe");
  const std::string absent_offer = posted(absent, "/v1/offers", service_offer(10));
  const std::string steady_offer = posted(steady, "/v1/offers", service_offer(10));
  // The offers and the request reach matching on two streams: a request applied before an
  // offer would make that pair proposed to the asker instead of the offer's owner (the spread
  // term), and the owners would no longer be alike. The request waits for both offers (matching
  // answers 404 to a listing's owner until it holds the listing).
  for (const auto& [owner, offer] : {std::pair{&absent, absent_offer}, {&steady, steady_offer}}) {
    ASSERT_TRUE(poll_until([&, owner = owner, offer = offer] {
      return unless_busy([&] {
               return as(*owner).get("/v1/matches?listing=offer:" + offer);
             }).status == 200;
    })) << "matching never stored offer "
        << offer;
  }
  const std::string request = posted(asker, "/v1/requests", service_offer(10));
  // Each pair is scored when made, and both again whenever the request is edited (each member
  // has then been proposed once, the same spread term for both): only reliability can tell
  // them apart.
  int edits = 0;
  const auto rescored = [&] {
    auto edited = unless_busy([&] {
      return as(asker).patch("/v1/requests/" + request,
                             {{"description", "Révisions, version " + std::to_string(++edits)}});
    });
    EXPECT_EQ(edited.status, 200) << edited.body;
    return scores_of(asker, request);
  };
  std::map<std::string, double> before;
  ASSERT_TRUE(poll_until([&] {
    before = rescored();
    return before.count(absent_offer) == 1 && before.count(steady_offer) == 1 &&
           std::abs(before[absent_offer] - before[steady_offer]) < 0.001;
  })) << "the request never matched both offers alike: "
      << before[absent_offer] << ", " << before[steady_offer];

  // A gardening hour agreed for five seconds from now: once the time has passed, the host
  // records that the member never came (409 too-early-for-no-show until then).
  Json garden = service_offer(10);
  garden["category"] = "jardinage";
  garden["title"] = "Taille de haie";
  const std::string garden_offer = posted(host, "/v1/offers", garden);
  const std::string at = format_rfc3339(std::time(nullptr) + 5);
  auto agreed = propose(absent, {{"offer_id", garden_offer}, {"scheduled_at", at}});
  ASSERT_EQ(agreed.status, 201) << agreed.body;
  const std::string missed = agreed.json()["id"];
  ASSERT_EQ(act(host, missed, "accept").status, 202);
  ASSERT_TRUE(state_becomes(host, missed, "accepted"));
  HttpResult recorded;
  poll_until([&] {
    recorded = unless_busy([&] {
      return as(host).post("/v1/exchanges/" + missed + "/no-show", {{"member_id", absent.id}});
    });
    return recorded.status != 409;
  });
  ASSERT_EQ(recorded.status, 200) << recorded.body;

  // The no-show reaches matching on another stream than the edits: edit until the scores show
  // it. Reliability 1/2 → 1/3 at a weight of 0.15.
  std::map<std::string, double> after;
  const bool lowered = poll_until([&] {
    after = rescored();
    return after.count(absent_offer) == 1 && after.count(steady_offer) == 1 &&
           after[absent_offer] < after[steady_offer] - 0.02;
  });
  ASSERT_TRUE(lowered) << "absent " << after[absent_offer] << ", steady " << after[steady_offer];
  EXPECT_NEAR(after[steady_offer] - after[absent_offer], 0.15 * (1.0 / 2 - 1.0 / 3), 0.002);
  EXPECT_LT(after[absent_offer], before[absent_offer] - 0.02);
}

}  // namespace
}  // namespace maillon::testing
