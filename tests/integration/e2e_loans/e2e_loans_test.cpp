// Loans, bookings, swaps and no-shows end to end through the nginx gateway (issue #19): a loan
// with its deposit (balances at each step), two overlapping bookings (the second refused, also
// when both accepts arrive together), a two-sided swap, a no-show counted against the absent
// member, and the member's calendar feed routed to the exchange service. (A late loan needs a
// moved clock: tests/integration/loans covers it with the real services.)
#include <gtest/gtest.h>

#include <array>
#include <barrier>
#include <ctime>
#include <set>
#include <thread>

#include "e2e/e2e_suite.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

class E2eLoansTest : public E2eSuite {
 protected:
  static std::string at(int64_t from_now_s) {
    return format_rfc3339(std::time(nullptr) + from_now_s);
  }
  static std::string good(const MemberInfo& owner, const std::string& mode, int64_t deposit = 0) {
    Json body = {{"kind", "good"},
                 {"mode", mode},
                 {"category", "perceuses"},
                 {"title", "Perceuse à percussion"},
                 {"location", {{"lat", 50.63}, {"lon", 3.07}}}};
    if (deposit > 0) body["deposit_minutes"] = deposit;
    auto r = as(owner).post("/v1/offers", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  static Json loan(const std::string& offer, int64_t from_s, int64_t to_s) {
    return {{"offer_id", offer}, {"starts_at", at(from_s)}, {"due_at", at(to_s)}};
  }
  static std::string field_of(const MemberInfo& who, const std::string& id, const char* field) {
    return exchange_of(who, id).value(field, "");
  }
};

TEST_F(E2eLoansTest, a_loan_with_its_deposit_through_the_gateway) {
  const StaffedCommunity c = staffed_community("Prêts");
  const MemberInfo owner = member(c, "karim"), borrower = member(c, "lucie");
  const std::string offer_id = good(owner, "lend", 40);
  auto created = propose(borrower, loan(offer_id, kHourS, 3 * kDayS));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"], path = "/v1/exchanges/" + id;
  const int64_t cost = created.json()["minutes"];  // the policy's loan_cost
  ASSERT_EQ(as(owner).post(path + "/accept").status, 202);
  ASSERT_TRUE(poll_until([&] { return field_of(owner, id, "deposit_state") == "held"; }));
  ASSERT_TRUE(state_becomes(owner, id, "accepted"));
  EXPECT_TRUE(balance_becomes(borrower, {120, cost + 40, 0, 120 - cost - 40}));
  ASSERT_EQ(as(borrower).post(path + "/handover").status, 200);
  ASSERT_EQ(as(owner).post(path + "/handover").status, 200);
  ASSERT_TRUE(state_becomes(owner, id, "handed_over")) << state_of(owner, id);
  EXPECT_TRUE(balance_becomes(borrower, {120 - cost, 40, 0, 120 - cost - 40}));
  EXPECT_TRUE(balance_becomes(owner, {120 + cost, 0, 40, 120 + cost}));
  ASSERT_EQ(as(borrower).post(path + "/return").status, 200);
  EXPECT_EQ(state_of(owner, id), "handed_over");  // not returned on the borrower's word alone
  ASSERT_EQ(as(owner).post(path + "/return").status, 200);
  EXPECT_EQ(state_of(owner, id), "completed");
  EXPECT_TRUE(balance_becomes(borrower, {120 - cost, 0, 0, 120 - cost}));
  EXPECT_TRUE(balance_becomes(owner, {120 + cost, 0, 0, 120 + cost}));

  // The borrower's calendar feed, through the gateway, without a session.
  auto link = as(borrower).get("/v1/me/calendar");
  ASSERT_EQ(link.status, 200) << link.body;
  auto feed = gateway->anonymous().get(link.json()["path"].get<std::string>());
  ASSERT_EQ(feed.status, 200) << feed.body;
  EXPECT_NE(feed.body.find("BEGIN:VCALENDAR\r\n"), std::string::npos);
  EXPECT_NE(feed.body.find("UID:exchange-" + id + "@maillon\r\n"), std::string::npos);
}

TEST_F(E2eLoansTest, overlapping_bookings_are_refused_also_when_both_accepts_arrive_together) {
  const StaffedCommunity c = staffed_community("Réservations");
  const MemberInfo owner = member(c, "sophie"), a = member(c, "ali"), b = member(c, "bea");
  const std::string offer_id = good(owner, "lend");
  auto first = propose(a, loan(offer_id, kDayS, 3 * kDayS));
  auto second = propose(b, loan(offer_id, 2 * kDayS, 4 * kDayS));
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(second.status, 201);
  EXPECT_EQ(
      as(owner).post("/v1/exchanges/" + first.json()["id"].get<std::string>() + "/accept").status,
      202);
  auto refused =
      as(owner).post("/v1/exchanges/" + second.json()["id"].get<std::string>() + "/accept");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.json()["code"], "booking-conflict");
  auto calendar =
      as(b).get("/v1/offers/" + offer_id + "/calendar?from=" + at(0) + "&to=" + at(10 * kDayS));
  ASSERT_EQ(calendar.status, 200) << calendar.body;
  EXPECT_EQ(calendar.json()["busy"].size(), 1u);

  const std::string race = good(owner, "lend");
  auto r1 = propose(a, loan(race, kDayS, 3 * kDayS));
  auto r2 = propose(b, loan(race, 2 * kDayS, 5 * kDayS));
  ASSERT_EQ(r1.status, 201);
  ASSERT_EQ(r2.status, 201);
  const std::array<std::string, 2> ids = {r1.json()["id"], r2.json()["id"]};
  std::array<int, 2> statuses{};
  std::barrier start(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      statuses[i] = as(owner).post("/v1/exchanges/" + ids[i] + "/accept").status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::multiset<int>(statuses.begin(), statuses.end()), (std::multiset<int>{202, 409}));
}

TEST_F(E2eLoansTest, a_two_sided_swap_and_a_no_show) {
  const StaffedCommunity c = staffed_community("Trocs");
  const MemberInfo alice = member(c, "alice"), bob = member(c, "bob");
  const std::string wanted = good(alice, "swap"), given = good(bob, "swap");
  auto created = propose(bob, {{"offer_id", wanted}, {"given_offer_id", given}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  ASSERT_EQ(as(alice).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(alice, id, "accepted"));
  ASSERT_EQ(as(alice).post("/v1/exchanges/" + id + "/handover").status, 200);
  ASSERT_EQ(as(bob).post("/v1/exchanges/" + id + "/handover").status, 200);
  EXPECT_EQ(state_of(alice, id), "completed");
  EXPECT_TRUE(poll_until(
      [&] { return as(bob).get("/v1/offers/" + given).json().value("status", "") == "closed"; }));

  // A service agreed for five seconds from now: once the time has passed, the provider records
  // that the receiver never came (409 too-early-for-no-show until then).
  const std::string service = offer(alice, 10);
  auto agreed = propose(bob, {{"offer_id", service}, {"scheduled_at", at(5)}});
  ASSERT_EQ(agreed.status, 201) << agreed.body;
  const std::string missed = agreed.json()["id"];
  ASSERT_EQ(as(alice).post("/v1/exchanges/" + missed + "/accept").status, 202);
  ASSERT_TRUE(state_becomes(alice, missed, "accepted"));
  HttpResult recorded;
  poll_until([&] {
    recorded = as(alice).post("/v1/exchanges/" + missed + "/no-show", {{"member_id", bob.id}});
    return recorded.status != 409;
  });
  ASSERT_EQ(recorded.status, 200) << recorded.body;
  EXPECT_EQ(recorded.json()["no_show_member_id"], bob.id);
  EXPECT_TRUE(balance_becomes(bob, {120, 0, 0, 120}));
}

}  // namespace
}  // namespace maillon::testing
