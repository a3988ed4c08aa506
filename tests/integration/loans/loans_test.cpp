// Loans between members (issue #19) with the real members, offers, ledger, exchange and depot
// services on PostgreSQL and Redis: a loan with its deposit (balances at each step), renewals,
// late loans blocking a new borrowing between members and at the depot (both ways), bookings that
// never overlap (also when two accepts arrive together), the offer's calendar, a lost object, and
// the member's iCalendar feed read by a real RFC 5545 parser. The services' clock is moved
// (TestClock), never waited for.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <array>
#include <barrier>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>
#include <thread>

#include "json_schema.hpp"
#include "loans_world.hpp"

namespace maillon::testing {
namespace {

class LoansTest : public LoanWorld {
 protected:
  static void SetUpTestSuite() { start_world("loans", {{"max_renewals", 1}}); }
  static void TearDownTestSuite() { stop_world(); }
};

TEST_F(LoansTest, a_loan_holds_its_deposit_posts_its_cost_at_hand_over_and_voids_it_on_return) {
  MemberInfo owner = member("Karim"), borrower = member("Lucie"), stranger = member("Paul");
  const std::string offer_id = lend_offer(owner, 60);

  auto created = propose(borrower, loan_body(offer_id, kHourS, 3 * kDayS));
  ASSERT_EQ(created.status, 201) << created.body;
  // Dates are checked before anything is stored: the due date after the start, not in the past.
  EXPECT_EQ(ex(borrower).wrong().post("/v1/exchanges", loan_body(offer_id, kDayS, kHourS)).status,
            400);
  EXPECT_EQ(
      ex(borrower).wrong().post("/v1/exchanges", loan_body(offer_id, -3 * kDayS, -kDayS)).status,
      400);
  EXPECT_EQ(ex(borrower).wrong().post("/v1/exchanges", {{"offer_id", offer_id}}).status, 400);
  const Json proposal = created.json();
  EXPECT_EQ(proposal["mode"], "lend");
  EXPECT_EQ(proposal["minutes"], kLoanCost);  // the policy's loan_cost, not the offer's price
  EXPECT_EQ(proposal["deposit_minutes"], 60);
  EXPECT_EQ(proposal["provider_id"], owner.id);
  const std::string id = proposal["id"];
  const std::string path = "/v1/exchanges/" + id;

  // Only the owner authorises; then the loan cost and the deposit are held from the borrower.
  EXPECT_EQ(ex(borrower).post(path + "/accept").status, 403);
  ASSERT_EQ(ex(owner).post(path + "/accept").status, 202);
  ASSERT_TRUE(becomes(owner, id, "deposit_state", "held")) << get(owner, id).dump();
  ASSERT_TRUE(becomes(owner, id, "state", "accepted"));
  EXPECT_TRUE(balance_becomes(borrower, {120, 90, 0, 30}));
  EXPECT_TRUE(balance_becomes(owner, {120, 0, 90, 120}));

  // A stranger sees nothing; nobody returns an object not handed over.
  EXPECT_EQ(ex(stranger).post(path + "/handover").status, 404);
  EXPECT_EQ(ex(borrower).post(path + "/return").status, 409);
  EXPECT_EQ(ex(borrower).post(path + "/complete").status, 409);

  // Both confirm the hand-over: the loan cost goes to the owner, the deposit stays held.
  auto first = ex(borrower).post(path + "/handover");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["state"], "accepted");
  EXPECT_EQ(ex(borrower).post(path + "/handover").status, 409);  // already confirmed
  ASSERT_EQ(ex(owner).post(path + "/handover").status, 200);
  ASSERT_TRUE(becomes(owner, id, "state", "handed_over")) << get(owner, id).dump();
  EXPECT_TRUE(balance_becomes(borrower, {90, 60, 0, 30}));
  EXPECT_TRUE(balance_becomes(owner, {150, 0, 60, 150}));

  // The borrower cannot mark it returned alone.
  auto returned = ex(borrower).post(path + "/return");
  ASSERT_EQ(returned.status, 200) << returned.body;
  EXPECT_EQ(returned.json()["state"], "handed_over");
  EXPECT_EQ(returned.json()["returns"]["receiver"], true);
  EXPECT_EQ(ex(borrower).post(path + "/return").status, 409);
  ASSERT_TRUE(balance_becomes(borrower, {90, 60, 0, 30}));

  auto back = ex(owner).post(path + "/return");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.json()["state"], "completed");
  EXPECT_TRUE(balance_becomes(borrower, {90, 0, 0, 90}));
  EXPECT_TRUE(balance_becomes(owner, {150, 0, 0, 150}));

  // The steps are events of their declared types, valid against their schemas.
  ASSERT_TRUE(eventually([&] { return types_of(id).contains("exchange.completed"); }));
  const auto types = types_of(id);
  for (const char* type : {"exchange.handed_over", "exchange.returned", "exchange.accepted"}) {
    EXPECT_TRUE(types.contains(type)) << type;
  }
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  for (const Json& event : stream_events("exchanges")) {
    if (event["data"].value("exchange_id", "") != id) continue;
    const std::string type = event["type"];
    auto violations = schemas.validate(type + ".schema.json", event);
    EXPECT_TRUE(violations.empty()) << type << ": " << violations.front() << "\n" << event.dump();
  }
  // The offer stays active: a lent object is lent again.
  EXPECT_EQ(Client(offers->url(), owner.token).get("/v1/offers/" + offer_id).json()["status"],
            "active");
}

TEST_F(LoansTest, staff_rule_a_lost_object_and_the_deposit_goes_to_the_owner) {
  MemberInfo owner = member("Rachid"), borrower = member("Emma");
  const std::string offer_id = lend_offer(owner, 40, true);
  const std::string id = handed_over_loan(owner, borrower, offer_id, kHourS, 2 * kDayS);
  ASSERT_TRUE(balance_becomes(borrower, {120 - kLoanCost, 40, 0, 120 - kLoanCost - 40}));
  EXPECT_EQ(ex(owner).post("/v1/exchanges/" + id + "/lost").status, 403);  // a party judges not
  auto lost = Client(exchange->url(), staff.token).post("/v1/exchanges/" + id + "/lost");
  ASSERT_EQ(lost.status, 200) << lost.body;
  EXPECT_EQ(lost.json()["state"], "lost");
  EXPECT_TRUE(balance_becomes(borrower, {120 - kLoanCost - 40, 0, 0, 120 - kLoanCost - 40}));
  EXPECT_TRUE(balance_becomes(owner, {120 + kLoanCost + 40, 0, 0, 120 + kLoanCost + 40}));
}

TEST_F(LoansTest,
       renewals_are_bounded_and_a_late_loan_blocks_borrowing_between_members_and_at_the_depot) {
  MemberInfo owner = member("Jeanne"), borrower = member("Hugo");
  const std::string offer_id = lend_offer(owner, 0), other_offer = lend_offer(owner, 0);
  const std::string id = handed_over_loan(owner, borrower, offer_id, kHourS, 2 * kDayS);
  const std::string path = "/v1/exchanges/" + id;

  // The borrower asks, the owner grants; the policy allows one renewal here.
  EXPECT_EQ(ex(owner).post(path + "/renew", {{"due_at", at(4 * kDayS)}}).status, 403);
  EXPECT_EQ(ex(borrower).post(path + "/renew", {{"due_at", at(kDayS)}}).status, 422);
  EXPECT_EQ(ex(owner).post(path + "/renew/accept").status, 409);  // nothing asked yet
  auto asked = ex(borrower).post(path + "/renew", {{"due_at", at(4 * kDayS)}});
  ASSERT_EQ(asked.status, 200) << asked.body;
  EXPECT_FALSE(asked.json()["requested_due_at"].is_null());
  EXPECT_EQ(ex(borrower).post(path + "/renew/accept").status, 403);
  auto granted = ex(owner).post(path + "/renew/accept");
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(granted.json()["renewals"], 1);
  EXPECT_EQ(granted.json()["due_at"], asked.json()["requested_due_at"]);
  auto again = ex(borrower).post(path + "/renew", {{"due_at", at(6 * kDayS)}});
  EXPECT_EQ(again.status, 422);
  EXPECT_EQ(again.json()["code"], "too-many-renewals");

  // Past the due date the loan is late (the job runs on the moved clock).
  clock->advance_s(5 * kDayS);
  ASSERT_TRUE(becomes(owner, id, "state", "late")) << get(owner, id).dump();
  EXPECT_EQ(ex(borrower).post(path + "/renew", {{"due_at", at(9 * kDayS)}}).status, 409);

  // No new borrowing between members...
  auto refused = propose(borrower, loan_body(other_offer, kHourS, 2 * kDayS));
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json()["code"], "overdue-loan");
  // ... nor at the depot, once it has heard of the late loan.
  Client desk(depot->url(), staff.token);
  Json item = {{"category", "perceuses"},
               {"title", "Scie sauteuse"},
               {"condition", "good"},
               {"weight_g", 2000},
               {"mode", "lend"}};
  HttpResult intake;  // once the depot has heard of the site
  ASSERT_TRUE(eventually(
      [&] {
        intake = desk.post("/v1/sites/" + site + "/items", item);
        return intake.status == 201;
      },
      kSagaTimeoutMs))
      << intake.body;
  const std::string item_id = intake.json()["id"];
  const Json lend = {{"member_id", borrower.id}, {"due_at", at(7 * kDayS)}};
  HttpResult at_desk;
  EXPECT_TRUE(eventually(
      [&] {
        at_desk = desk.post("/v1/items/" + item_id + "/lend", lend);
        return at_desk.status == 422;
      },
      kSagaTimeoutMs))
      << at_desk.status << " " << at_desk.body;
  EXPECT_EQ(at_desk.json()["code"], "overdue-loan");

  // Once it is back, both doors open again.
  return_both(owner, borrower, id);
  HttpResult lent;
  EXPECT_TRUE(eventually(
      [&] {
        lent = desk.post("/v1/items/" + item_id + "/lend", lend);
        return lent.status == 200 || lent.status == 201;
      },
      kSagaTimeoutMs))
      << lent.status << " " << lent.body;
  auto allowed = propose(borrower, loan_body(other_offer, kHourS, 2 * kDayS));
  EXPECT_EQ(allowed.status, 201) << allowed.body;

  // A loan late at the depot blocks a borrowing between members too.
  clock->advance_s(8 * kDayS);
  auto blocked = [&] {
    auto r = ex(borrower).post("/v1/exchanges", loan_body(offer_id, kHourS, 2 * kDayS));
    return r.status == 422 && r.json().value("code", "") == "overdue-loan";
  };
  EXPECT_TRUE(eventually(blocked, kSagaTimeoutMs));
}

TEST_F(LoansTest, bookings_of_one_object_never_overlap_even_when_two_accepts_arrive_together) {
  MemberInfo owner = member("Sophie"), a = member("Ali"), b = member("Bea"), c = member("Chloe");
  const std::string offer_id = lend_offer(owner, 0);
  auto first = propose(a, loan_body(offer_id, kDayS, 3 * kDayS));
  auto second = propose(b, loan_body(offer_id, 2 * kDayS, 4 * kDayS));  // overlaps the first
  auto third = propose(c, loan_body(offer_id, 5 * kDayS, 6 * kDayS));   // after both
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(second.status, 201);  // proposals may overlap
  ASSERT_EQ(third.status, 201);
  const std::string p1 = first.json()["id"], p2 = second.json()["id"], p3 = third.json()["id"];
  EXPECT_EQ(ex(owner).post("/v1/exchanges/" + p1 + "/accept").status, 202);
  auto conflict = ex(owner).post("/v1/exchanges/" + p2 + "/accept");
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_EQ(conflict.json()["code"], "booking-conflict");
  EXPECT_EQ(get(owner, p2)["state"], "proposed");
  EXPECT_EQ(ex(owner).post("/v1/exchanges/" + p3 + "/accept").status, 202);

  // The calendar shows the two bookings held.
  auto calendar =
      ex(b).get("/v1/offers/" + offer_id + "/calendar?from=" + at(0) + "&to=" + at(10 * kDayS));
  ASSERT_EQ(calendar.status, 200) << calendar.body;
  ASSERT_EQ(calendar.json()["busy"].size(), 2u) << calendar.body;
  EXPECT_EQ(calendar.json()["busy"][0]["exchange_id"], p1);
  EXPECT_EQ(ex(b).wrong().get("/v1/offers/" + offer_id + "/calendar?from=demain").status, 400);

  // Cancelling frees the dates: the overlapping one may now be accepted.
  EXPECT_EQ(ex(a).post("/v1/exchanges/" + p1 + "/cancel").status, 200);
  EXPECT_EQ(ex(owner).post("/v1/exchanges/" + p2 + "/accept").status, 202);

  // Two overlapping accepts at once on a new object: PostgreSQL lets one through.
  const std::string race_offer = lend_offer(owner, 0);
  auto r1 = propose(a, loan_body(race_offer, kDayS, 3 * kDayS));
  auto r2 = propose(c, loan_body(race_offer, 2 * kDayS, 5 * kDayS));
  ASSERT_EQ(r1.status, 201);
  ASSERT_EQ(r2.status, 201);
  const std::array<std::string, 2> ids = {r1.json()["id"], r2.json()["id"]};
  std::array<int, 2> statuses{};
  std::barrier start(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      statuses[i] = ex(owner).post("/v1/exchanges/" + ids[i] + "/accept").status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::multiset<int>(statuses.begin(), statuses.end()), (std::multiset<int>{202, 409}));
}

TEST_F(LoansTest, the_members_calendar_feed_is_valid_icalendar_and_revocable) {
  MemberInfo owner = member("Marc"), borrower = member("Inès");
  const std::string offer_id = lend_offer(owner, 0);
  const std::string id = accepted_loan(owner, borrower, offer_id, kDayS, 3 * kDayS);
  auto link = ex(borrower).get("/v1/me/calendar");
  ASSERT_EQ(link.status, 200) << link.body;
  const std::string token = link.json()["token"];
  EXPECT_EQ(ex(borrower).get("/v1/me/calendar").json()["token"], token);  // the same until revoked

  auto feed = Client(exchange->url()).get("/v1/me/calendar.ics?token=" + token);
  ASSERT_EQ(feed.status, 200) << feed.body;
  // Every line ends with CRLF and holds at most 75 octets.
  for (size_t start = 0; start < feed.body.size();) {
    const size_t end = feed.body.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "a line without CRLF";
    EXPECT_LE(end - start, 75u) << feed.body.substr(start, end - start);
    start = end + 2;
  }
  // A real parser (Debian's python3-icalendar) reads it back: one event, the loan's dates.
  const std::string file = "/tmp/maillon-feed-" + unique_suffix() + ".ics";
  std::ofstream(file, std::ios::binary) << feed.body;
  const std::string script =
      "import sys, icalendar; c = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read()); "
      "e = [x for x in c.walk('VEVENT')]; "
      "print(len(e), e[0]['UID'], e[0]['SUMMARY'], e[0].decoded('DTEND') > "
      "e[0].decoded('DTSTART'), 'DTSTAMP' in e[0])";
  FILE* pipe = popen(("/usr/bin/python3 -c \"" + script + "\" " + file + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  EXPECT_EQ(pclose(pipe), 0) << out;
  std::remove(file.c_str());
  EXPECT_EQ(out, "1 exchange-" + id + "@maillon Emprunt d'un objet True True\n");

  EXPECT_EQ(ex(borrower).del("/v1/me/calendar").status, 204);
  EXPECT_EQ(Client(exchange->url()).get("/v1/me/calendar.ics?token=" + token).status, 404);
  EXPECT_NE(ex(borrower).get("/v1/me/calendar").json()["token"], token);
}

TEST_F(LoansTest, a_swap_completes_once_both_hand_over_and_closes_both_listings) {
  MemberInfo alice = member("Alice"), bob = member("Bob");
  Client alice_offers(offers->url(), alice.token), bob_offers(offers->url(), bob.token);
  auto good = [](const std::string& title) {
    return Json{{"kind", "good"},
                {"mode", "swap"},
                {"category", "perceuses"},
                {"title", title},
                {"location", {{"lat", 50.63}, {"lon", 3.07}}}};
  };
  const std::string wanted = alice_offers.post("/v1/offers", good("Ponceuse")).json()["id"];
  const std::string given = bob_offers.post("/v1/offers", good("Visseuse")).json()["id"];
  // Bob gives one of his own active offers, and names it.
  auto missing = propose(bob, {{"offer_id", wanted}});
  EXPECT_EQ(missing.status, 400) << missing.body;
  auto not_his = ex(bob).post("/v1/exchanges", {{"offer_id", wanted}, {"given_offer_id", wanted}});
  EXPECT_EQ(not_his.status, 422) << not_his.body;
  HttpResult created;
  ASSERT_TRUE(eventually(
      [&] {
        created = ex(bob).post("/v1/exchanges", {{"offer_id", wanted}, {"given_offer_id", given}});
        return created.status == 201;
      },
      kSagaTimeoutMs))
      << created.body;
  EXPECT_EQ(created.json()["given_offer_id"], given);
  EXPECT_EQ(created.json()["mode"], "swap");
  const std::string id = created.json()["id"];
  ASSERT_EQ(ex(alice).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(becomes(alice, id, "state", "accepted"));
  auto first = ex(alice).post("/v1/exchanges/" + id + "/handover");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["state"], "accepted");  // one side only
  ASSERT_EQ(ex(bob).post("/v1/exchanges/" + id + "/handover").status, 200);
  EXPECT_EQ(get(bob, id)["state"], "completed");
  auto status = [](const Client& c, const std::string& offer) {
    return c.get("/v1/offers/" + offer).json().value("status", "");
  };
  EXPECT_TRUE(eventually([&] { return status(alice_offers, wanted) == "closed"; }));
  EXPECT_TRUE(eventually([&] { return status(bob_offers, given) == "closed"; }));

  // Either party may cancel before the hand-over.
  const std::string other = alice_offers.post("/v1/offers", good("Scie circulaire")).json()["id"];
  const std::string mine = bob_offers.post("/v1/offers", good("Perforateur")).json()["id"];
  HttpResult next;
  ASSERT_TRUE(eventually(
      [&] {
        next = ex(bob).post("/v1/exchanges", {{"offer_id", other}, {"given_offer_id", mine}});
        return next.status == 201;
      },
      kSagaTimeoutMs))
      << next.body;
  const std::string cancelled = next.json()["id"];
  ASSERT_EQ(ex(alice).post("/v1/exchanges/" + cancelled + "/accept").status, 202);
  ASSERT_TRUE(becomes(alice, cancelled, "state", "accepted"));
  EXPECT_EQ(ex(alice).post("/v1/exchanges/" + cancelled + "/cancel").status, 200);
  EXPECT_TRUE(eventually([&] { return status(bob_offers, mine) == "active"; }));
}

TEST_F(LoansTest, a_no_show_recorded_after_the_time_cancels_and_counts_against_the_absent_party) {
  MemberInfo provider = member("Yasmine"), receiver = member("Tom"), stranger = member("Zoé");
  Json body = {{"kind", "service"},
               {"mode", "service"},
               {"category", "aide-aux-devoirs"},
               {"title", "Aide aux devoirs de maths"},
               {"duration_minutes", 60},
               {"price_minutes", 20},
               {"location", {{"lat", 50.63}, {"lon", 3.07}}}};
  const std::string offer_id =
      Client(offers->url(), provider.token).post("/v1/offers", body).json()["id"];
  // Not back-dated beyond a day, not more than a year ahead.
  for (const int64_t from_now : {-2 * 24 * kHourS, 400 * 24 * kHourS}) {
    auto refused = propose(receiver, {{"offer_id", offer_id}, {"scheduled_at", at(from_now)}});
    ASSERT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.json()["errors"][0]["field"], "scheduled_at");
  }
  auto created = propose(receiver, {{"offer_id", offer_id}, {"scheduled_at", at(kHourS)}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"], path = "/v1/exchanges/" + id + "/no-show";
  ASSERT_EQ(ex(provider).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(becomes(provider, id, "state", "accepted"));
  ASSERT_TRUE(balance_becomes(receiver, {120, 20, 0, 100}));

  EXPECT_EQ(ex(provider).post(path, {{"member_id", receiver.id}}).status, 409);  // too early
  clock->advance_s(2 * kHourS);
  EXPECT_EQ(ex(stranger).post(path, {{"member_id", receiver.id}}).status, 404);
  EXPECT_EQ(ex(provider).post(path, {{"member_id", provider.id}}).status, 422);  // not oneself
  auto recorded = ex(provider).post(path, {{"member_id", receiver.id}});
  ASSERT_EQ(recorded.status, 200) << recorded.body;
  EXPECT_EQ(recorded.json()["state"], "cancelled");
  EXPECT_EQ(recorded.json()["no_show_member_id"], receiver.id);
  EXPECT_TRUE(balance_becomes(receiver, {120, 0, 0, 120}));  // the hold is voided

  // exchange.no_show names the absent party; the cancellation does not count against the
  // provider who recorded it (no exchange.abandoned).
  ASSERT_TRUE(eventually([&] { return types_of(id).contains("exchange.no_show"); }));
  EXPECT_FALSE(types_of(id).contains("exchange.abandoned"));
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  for (const Json& event : stream_events("exchanges")) {
    if (event["data"].value("exchange_id", "") != id) continue;
    EXPECT_TRUE(schemas.validate(event["type"].get<std::string>() + ".schema.json", event).empty())
        << event.dump();
    if (event["type"] == "exchange.no_show") {
      EXPECT_EQ(event["data"]["no_show_member_id"], receiver.id);
    }
    if (event["type"] == "exchange.cancelled") {
      EXPECT_EQ(event["data"]["cancelled_by"], provider.id);
    }
  }
  // The absent member's profile counts it, and their reliability drops below a newcomer's.
  Client profiles(world->members->url(), provider.token);
  Json profile;
  EXPECT_TRUE(eventually(
      [&] {
        profile = profiles.get("/v1/members/" + receiver.id).json();
        return profile.value("no_shows", 0) == 1;
      },
      kSagaTimeoutMs))
      << profile.dump();
  EXPECT_LT(profile.value("reliability", 1.0), 0.5);
  EXPECT_TRUE(profile["rating_average"].is_null());
  EXPECT_EQ(profile["rating_count"], 0);
}

}  // namespace
}  // namespace maillon::testing
