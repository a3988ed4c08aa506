// Holds on lent objects end to end through the nginx gateway (issue #19): a member queues for an
// object on loan, the loan cannot be renewed while they wait, and once it is back they are told
// (their inbox, loan.available) and alone may borrow it; it shows in their GET /v1/me/holds, and
// a declined proposal keeps their place until the owner accepts one. (The pick-up window passing,
// due dates on closed days and weekly late notices need a moved clock: tests/integration/holds.)
#include <gtest/gtest.h>

#include <ctime>

#include "e2e/e2e_suite.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

// The queue moves on at the exchange service's next job run after the return: every 5 s on the
// test stacks (script/lib.sh, export_test_job_pace), a minute at the default pace, which this
// bound also allows.
constexpr int kJobRunMs = 150'000;

class E2eHoldsTest : public E2eSuite {
 protected:
  static std::string at(int64_t from_now_s) {
    return format_rfc3339(std::time(nullptr) + from_now_s);
  }
  static Json loan(const std::string& offer, int64_t from_s, int64_t to_s) {
    return {{"offer_id", offer}, {"starts_at", at(from_s)}, {"due_at", at(to_s)}};
  }
  static Json queue(const MemberInfo& who, const std::string& offer) {
    return unless_busy([&] { return as(who).get("/v1/offers/" + offer + "/holds"); }).json();
  }
  static Json my_holds(const MemberInfo& who) {
    return unless_busy([&] { return as(who).get("/v1/me/holds"); }).json();
  }
  static bool told(const MemberInfo& who) {
    auto r = as(who).get("/v1/notifications?limit=50");
    if (r.status != 200) return false;
    const Json body = r.json();
    for (const Json& n : body["items"]) {
      if (n["type"] == "exchange.hold_available") return true;
    }
    return false;
  }
};

TEST_F(E2eHoldsTest, a_member_holds_an_object_on_loan_and_is_told_when_it_is_back) {
  const StaffedCommunity c = staffed_community("Réservations");
  const MemberInfo owner = member(c, "yasmine"), borrower = member(c, "hugo"),
                   holder = member(c, "ines"), other = member(c, "jules");
  auto offer = as(owner).post("/v1/offers", {{"kind", "good"},
                                             {"mode", "lend"},
                                             {"category", "perceuses"},
                                             {"title", "Ponceuse orbitale"},
                                             {"location", {{"lat", 50.63}, {"lon", 3.07}}}});
  ASSERT_EQ(offer.status, 201) << offer.body;
  const std::string offer_id = offer.json()["id"];

  auto created = propose(borrower, loan(offer_id, kHourS, 3 * kDayS));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"], path = "/v1/exchanges/" + id;
  ASSERT_EQ(as(owner).post(path + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(owner, id, "accepted"));
  ASSERT_EQ(as(borrower).post(path + "/handover").status, 200);
  ASSERT_EQ(as(owner).post(path + "/handover").status, 200);
  ASSERT_TRUE(state_becomes(owner, id, "handed_over")) << state_of(owner, id);

  auto joined = as(holder).post("/v1/offers/" + offer_id + "/holds");
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(joined.json()["position"], 1);
  EXPECT_EQ(as(holder).post("/v1/offers/" + offer_id + "/holds").status, 409);  // once
  EXPECT_EQ(queue(owner, offer_id)["items"].size(), 1u);
  EXPECT_EQ(queue(other, offer_id)["length"], 1);
  EXPECT_TRUE(queue(other, offer_id)["items"].empty());

  auto renew = as(borrower).post(path + "/renew", {{"due_at", at(6 * kDayS)}});
  EXPECT_EQ(renew.status, 409) << renew.body;
  EXPECT_EQ(renew.json()["code"], "hold-queue");

  ASSERT_EQ(as(borrower).post(path + "/return").status, 200);
  ASSERT_EQ(as(owner).post(path + "/return").status, 200);
  // Asked once a second: the wait is the job's pace, not the answer's.
  ASSERT_TRUE(eventually(
      [&] {
        const Json q = queue(holder, offer_id);
        return !q["items"].empty() && q["items"][0]["state"] == "ready";
      },
      kJobRunMs, 1000))
      << queue(owner, offer_id).dump();
  EXPECT_TRUE(poll_until([&] { return told(holder); }));
  EXPECT_FALSE(told(other));

  auto jump = as(other).post("/v1/exchanges", loan(offer_id, kHourS, 2 * kDayS));
  EXPECT_EQ(jump.status, 409) << jump.body;
  EXPECT_EQ(jump.json()["code"], "held-for-another");
  // Their holds across objects (GET /v1/me/holds): this one, their turn, and until when.
  const Json mine = my_holds(holder);
  ASSERT_EQ(mine["items"].size(), 1u) << mine.dump();
  EXPECT_EQ(mine["items"][0]["offer_id"], offer_id);
  EXPECT_EQ(mine["items"][0]["offer_title"], "Ponceuse orbitale");
  EXPECT_EQ(mine["items"][0]["state"], "ready");
  EXPECT_EQ(mine["items"][0]["position"], 1);
  EXPECT_FALSE(mine["items"][0]["pickup_until"].is_null());
  EXPECT_TRUE(my_holds(other)["items"].empty());

  // Asking is not borrowing: declined, the holder keeps the place and the window; accepted, the
  // hold is fulfilled and leaves the queue.
  auto asked = propose(holder, loan(offer_id, kHourS, 2 * kDayS));
  ASSERT_EQ(asked.status, 201) << asked.body;
  const std::string asked_id = asked.json()["id"];
  ASSERT_EQ(as(owner).post("/v1/exchanges/" + asked_id + "/decline").status, 200);
  const Json kept = my_holds(holder);
  ASSERT_EQ(kept["items"].size(), 1u) << kept.dump();
  EXPECT_EQ(kept["items"][0]["state"], "ready");
  EXPECT_EQ(kept["items"][0]["pickup_until"], mine["items"][0]["pickup_until"]);
  auto borrowed = propose(holder, loan(offer_id, kHourS, 2 * kDayS));
  ASSERT_EQ(borrowed.status, 201) << borrowed.body;
  const std::string borrowed_id = borrowed.json()["id"];
  EXPECT_EQ(queue(owner, offer_id)["length"], 1);
  ASSERT_EQ(as(owner).post("/v1/exchanges/" + borrowed_id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(owner, borrowed_id, "accepted")) << state_of(owner, borrowed_id);
  EXPECT_EQ(queue(owner, offer_id)["length"], 0);
  EXPECT_TRUE(my_holds(holder)["items"].empty());
}

}  // namespace
}  // namespace maillon::testing
