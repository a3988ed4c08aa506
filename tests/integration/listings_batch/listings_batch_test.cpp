// Listings created together (services/offers/create_batch.hpp: creations that arrive while one
// transaction writes are written by the next one): each caller is answered only once its listing
// is committed and searchable, each listing's event carries its own request's id, and a member
// who may not post is refused alone, the others of the same batches going through.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "services/common/ids.hpp"
#include "services/common/redis.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

constexpr int kMembers = 8;
constexpr int kListingsPerMember = 6;

Json drill(const std::string& title) {
  return {{"kind", "good"},
          {"mode", "lend"},
          {"category", "perceuses"},
          {"title", title},
          {"location", {{"lat", 50.63}, {"lon", 3.07}}}};
}

class ListingsBatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld("listings_batch", {{"MAILLON_LOGIN_RATE_PER_MIN", "100000"},
                                                {"MAILLON_LOGIN_BURST", "100000"},
                                                {"MAILLON_RATE_LIMIT", "100000"},
                                                {"MAILLON_RATE_BURST", "100000"}});
    community = world->create_community("Métropole Européenne de Lille");
    site = world->create_site(community, "Tiers-lieu de Fives", 50.63, 3.09);
    offers = new ServiceProcess("offers", world->env());
    offers->start();
  }
  static void TearDownTestSuite() {
    delete offers;
    delete world;
  }

  static std::vector<MemberInfo> members(const std::string& prefix, int count) {
    std::vector<MemberInfo> out;
    for (int i = 0; i < count; ++i) {
      out.push_back(world->register_member(community, prefix + std::to_string(i), site));
    }
    return out;
  }

  // offer.published events on the stream, by listing id.
  static std::map<std::string, std::vector<Json>> published() {
    Redis redis(redis_url());
    auto entries = redis.command({"XRANGE", world->prefix + ":offers", "-", "+"});
    std::map<std::string, std::vector<Json>> out;
    for (std::size_t i = 0; i < entries->elements; ++i) {
      const redisReply* fields = entries->element[i]->element[1];
      Json e = Json::parse(reply_string(fields->element[1]));
      if (e.value("type", "") == "offer.published") out[e["data"].value("id", "")].push_back(e);
    }
    return out;
  }

  static void suspend(const MemberInfo& m) {
    const Json envelope = {
        {"id", new_uuid()},
        {"type", "member.suspended"},
        {"version", 1},
        {"occurred_at", format_rfc3339(std::time(nullptr))},
        {"community_id", community},
        {"data", {{"member_id", m.id}, {"community_id", community}, {"reason", "spam"}}}};
    Redis redis(redis_url());
    auto r = redis.command({"XADD", world->prefix + ":members", "*", "event", envelope.dump()});
    ASSERT_FALSE(is_error(r.get())) << reply_string(r.get());
  }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* offers = nullptr;
  static inline std::string community, site;
};

TEST_F(ListingsBatchTest,
       concurrent_creations_are_each_searchable_when_answered_and_published_once) {
  const std::vector<MemberInfo> posting = members("Batch", kMembers);
  std::mutex mutex;
  std::map<std::string, std::string> request_of;  // listing id → the answer's X-Request-Id
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (const MemberInfo& m : posting) {
    threads.emplace_back([&, m] {
      Client c(offers->url(), m.token);
      for (int n = 0; n < kListingsPerMember; ++n) {
        auto created = c.post("/v1/offers", drill("Perceuse " + std::to_string(n)));
        std::lock_guard lock(mutex);
        if (created.status != 201) {
          failures.push_back(created.body);
          continue;
        }
        const std::string id = created.json().value("id", "");
        request_of[id] = created.headers["x-request-id"];
        // Searchable as soon as answered: the batch's commit was read by this process first.
        const auto page = c.get("/v1/offers?member_id=me&limit=100");
        bool found = false;
        for (const auto& item : page.json().value("items", Json::array())) {
          found = found || item.value("id", "") == id;
        }
        if (!found)
          failures.push_back("not found right after its creation: " + id + " " + page.body);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.front();
  ASSERT_EQ(request_of.size(), static_cast<std::size_t>(kMembers * kListingsPerMember));

  std::map<std::string, std::vector<Json>> events;
  ASSERT_TRUE(eventually([&] {
    events = published();
    for (const auto& [id, request] : request_of) {
      if (events.count(id) == 0) return false;
    }
    return true;
  })) << "every listing's event reaches the stream";
  for (const auto& [id, request] : request_of) {
    ASSERT_EQ(events[id].size(), 1u) << id;
    const Json& event = events[id].front();
    EXPECT_EQ(event["data"].value("revision", -1), 0) << id;
    // Written by whichever request led the batch, each event names its own request.
    EXPECT_EQ(event.value("request_id", ""), request) << id;
  }
}

TEST_F(ListingsBatchTest, a_member_who_may_not_post_is_refused_alone_among_concurrent_creations) {
  const std::vector<MemberInfo> posting = members("Ensemble", kMembers);
  const MemberInfo barred = world->register_member(community, "Suspendu", site);
  // The session survives (only offers hears of the suspension): the standing decides.
  suspend(barred);
  Client as_barred(offers->url(), barred.token);
  ASSERT_TRUE(eventually([&] {
    return as_barred.post("/v1/offers", drill("Essai")).status == 403;
  })) << "offers never recorded the suspension";

  std::atomic<int> created{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i <= kMembers; ++i) {
    threads.emplace_back([&, i] {
      Client c(offers->url(), i == kMembers ? barred.token : posting[i].token);
      for (int n = 0; n < kListingsPerMember; ++n) {
        const int status = c.post("/v1/offers", drill("Scie " + std::to_string(n))).status;
        if (i == kMembers) {
          (status == 403 ? refused : other)++;
        } else {
          (status == 201 ? created : other)++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), kMembers * kListingsPerMember);
  EXPECT_EQ(refused.load(), kListingsPerMember);
  EXPECT_EQ(other.load(), 0);
  // The tries before offers recorded the suspension may have posted an "Essai"; no "Scie".
  const Json own = as_barred.get("/v1/offers?member_id=me&limit=100").json();
  for (const auto& item : own["items"]) {
    EXPECT_EQ(item.value("title", "").rfind("Scie", 0), std::string::npos) << item.dump();
  }
}

}  // namespace
}  // namespace maillon::testing
