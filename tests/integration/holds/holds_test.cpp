// Holds and renewals between members as libraries of things run them (issue #19), with the real
// members, offers, ledger, exchange, depot and notify services on PostgreSQL and Redis (the loans'
// world, loans_world.hpp): a queue for an object on loan (fair order, once per member, never on
// one's own object), the first told when it is back (exchange.hold_available, notify's
// loan.available) and alone allowed to borrow it during the pick-up window, then the next one;
// renewals refused with a queue, while late and past max_renewals; due dates moved to a day the
// site is open; late notices repeated weekly, once per week (the depot's too); a hold fulfilled by
// the owner's accept, not the proposal; a member's holds across objects (GET /v1/me/holds). The
// clock is moved, never waited for.
#include <gtest/gtest.h>

#include <cstdlib>

#include "json_schema.hpp"
#include "loans_world.hpp"

namespace maillon::testing {
namespace {

constexpr int64_t kPickupDays = 3;
constexpr int64_t kWeekS = 7 * kDayS;

class HoldsTest : public LoanWorld {
 protected:
  static void SetUpTestSuite() {
    start_world("holds", {{"hold_pickup_days", kPickupDays}}, {"notify"});
  }
  static void TearDownTestSuite() { stop_world(); }

  static Client inbox(const MemberInfo& m) { return Client(extra.front()->url(), m.token); }
  static Json notifications_of(const MemberInfo& m, const std::string& type) {
    Json out = Json::array();
    auto r = inbox(m).get("/v1/notifications?limit=100");
    if (r.status != 200) return out;
    const Json body = r.json();
    for (const auto& n : body["items"]) {
      if (n["type"] == type) out.push_back(n);
    }
    return out;
  }
  static HttpResult join(const MemberInfo& who, const std::string& offer_id) {
    return ex(who).post("/v1/offers/" + offer_id + "/holds");
  }
  static Json queue(const MemberInfo& who, const std::string& offer_id) {
    return ex(who).get("/v1/offers/" + offer_id + "/holds").json();
  }
  // The caller's own hold in the queue answer (an empty object when none).
  static Json own_hold(const MemberInfo& who, const std::string& offer_id) {
    const Json answer = queue(who, offer_id);  // held: a range-for over its items would dangle
    for (const Json& h : answer["items"]) {
      if (h["member_id"] == who.id) return h;
    }
    return Json::object();
  }
  static std::vector<Json> events_of(const std::string& type) {
    std::vector<Json> out;
    for (Json& e : stream_events("exchanges")) {
      if (e["type"] == type) out.push_back(std::move(e));
    }
    return out;
  }
  static void expect_valid(const Json& event) {
    static JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
    const std::string type = event["type"];
    auto violations = schemas.validate(type + ".schema.json", event);
    EXPECT_TRUE(violations.empty()) << type << ": " << violations.front() << "\n" << event.dump();
  }
};

TEST_F(HoldsTest, the_queue_is_fair_and_the_first_alone_borrows_during_the_pick_up_window) {
  MemberInfo owner = member("Yasmine"), borrower = member("Hugo"), first = member("Inès"),
             second = member("Jules");
  const std::string offer_id = lend_offer(owner, 0, true);
  const std::string holds = "/v1/offers/" + offer_id + "/holds";

  // Nobody queues for an object that is free: it is borrowed directly.
  ASSERT_TRUE(eventually([&] { return join(first, offer_id).status == 409; }, kSagaTimeoutMs));
  EXPECT_EQ(join(first, offer_id).json()["code"], "not-on-loan");

  const std::string loan = handed_over_loan(owner, borrower, offer_id, kHourS, 2 * kDayS);
  auto own = join(owner, offer_id);
  EXPECT_EQ(own.status, 422) << own.body;
  EXPECT_EQ(own.json()["code"], "own-listing");
  EXPECT_EQ(join(borrower, offer_id).json()["code"], "already-borrowing");

  auto joined = join(first, offer_id);
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(joined.json()["position"], 1);
  EXPECT_EQ(joined.json()["state"], "waiting");
  const std::string first_hold = joined.json()["id"];
  auto again = join(first, offer_id);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.json()["code"], "already-holding");
  EXPECT_NE(again.json().value("detail", "").find("file d'attente"), std::string::npos);
  ASSERT_EQ(join(second, offer_id).status, 201);

  // The owner and the site's staff see the whole queue in order; a member, their own place.
  const Json whole = queue(owner, offer_id);
  EXPECT_EQ(whole["length"], 2);
  ASSERT_EQ(whole["items"].size(), 2u);
  EXPECT_EQ(whole["items"][0]["member_id"], first.id);
  EXPECT_EQ(whole["items"][1]["member_id"], second.id);
  EXPECT_EQ(queue(staff, offer_id)["items"].size(), 2u);
  const Json mine = queue(second, offer_id);
  EXPECT_EQ(mine["length"], 2);
  ASSERT_EQ(mine["items"].size(), 1u);
  EXPECT_EQ(mine["items"][0]["position"], 2);

  // With a queue, the loan is not renewed, and nobody else books the object meanwhile.
  auto renew = ex(borrower).post("/v1/exchanges/" + loan + "/renew", {{"due_at", at(5 * kDayS)}});
  EXPECT_EQ(renew.status, 409) << renew.body;
  EXPECT_EQ(renew.json()["code"], "hold-queue");
  auto jump = ex(second).post("/v1/exchanges", loan_body(offer_id, 3 * kDayS, 4 * kDayS));
  EXPECT_EQ(jump.status, 409) << jump.body;
  EXPECT_EQ(jump.json()["code"], "held-for-another");
  // The first of the queue is told their place, not that the object waits for someone else.
  auto own_turn = ex(first).post("/v1/exchanges", loan_body(offer_id, 3 * kDayS, 4 * kDayS));
  EXPECT_EQ(own_turn.status, 409) << own_turn.body;
  EXPECT_EQ(own_turn.json()["code"], "held-for-another");
  EXPECT_NE(own_turn.json().value("detail", "").find("Vous êtes le premier"), std::string::npos)
      << own_turn.body;
  EXPECT_EQ(jump.json().value("detail", "").find("Vous êtes le premier"), std::string::npos);

  // Back: the first is told and has the pick-up window; the second still waits.
  return_both(owner, borrower, loan);
  ASSERT_TRUE(eventually([&] { return own_hold(first, offer_id).value("state", "") == "ready"; },
                         kSagaTimeoutMs))
      << queue(owner, offer_id).dump();
  const Json ready = own_hold(first, offer_id);
  const auto ready_at = parse_rfc3339_s(ready["ready_at"].get<std::string>());
  const auto until = parse_rfc3339_s(ready["pickup_until"].get<std::string>());
  ASSERT_TRUE(ready_at && until);
  EXPECT_EQ(*until - *ready_at, kPickupDays * kDayS);  // the policy's hold_pickup_days
  ASSERT_TRUE(eventually([&] { return !events_of("exchange.hold_available").empty(); }));
  const Json told = events_of("exchange.hold_available").back();
  EXPECT_EQ(told["data"]["hold_member_id"], first.id);
  EXPECT_EQ(told["data"]["exchange_id"], loan);
  expect_valid(told);
  ASSERT_TRUE(eventually(
      [&] { return !notifications_of(first, "exchange.hold_available").empty(); }, kSagaTimeoutMs));
  EXPECT_TRUE(notifications_of(second, "exchange.hold_available").empty());
  EXPECT_EQ(ex(second).post("/v1/exchanges", loan_body(offer_id, kHourS, kDayS)).json()["code"],
            "held-for-another");

  // The window passes: the first's hold expires and the second is told.
  clock->advance_s(kPickupDays * kDayS + kHourS);
  ASSERT_TRUE(eventually([&] { return own_hold(second, offer_id).value("state", "") == "ready"; },
                         kSagaTimeoutMs))
      << queue(owner, offer_id).dump();
  EXPECT_TRUE(own_hold(first, offer_id).empty());
  EXPECT_EQ(ex(first).post("/v1/exchanges", loan_body(offer_id, kHourS, kDayS)).json()["code"],
            "held-for-another");
  ASSERT_TRUE(
      eventually([&] { return !notifications_of(second, "exchange.hold_available").empty(); },
                 kSagaTimeoutMs));

  // The second asks in time and the owner accepts: the hold is fulfilled, the queue is empty.
  auto borrowed = ex(second).post("/v1/exchanges", loan_body(offer_id, kHourS, 2 * kDayS));
  ASSERT_EQ(borrowed.status, 201) << borrowed.body;
  EXPECT_EQ(queue(owner, offer_id)["length"], 1);  // asking is not borrowing yet
  const std::string borrowed_id = borrowed.json()["id"];
  ASSERT_EQ(ex(owner).post("/v1/exchanges/" + borrowed_id + "/accept").status, 202);
  ASSERT_TRUE(becomes(owner, borrowed_id, "state", "accepted"));
  EXPECT_EQ(queue(owner, offer_id)["length"], 0);
  // Leaving is the holder's own act; another's hold is not found.
  EXPECT_EQ(ex(second).del("/v1/holds/" + first_hold).status, 404);
  EXPECT_EQ(ex(first).del("/v1/holds/" + first_hold).status, 204);
}

// A hold is fulfilled by the owner's accept, not by the member's proposal: declined, the member
// keeps the first place and what is left of the window; an accepted loan called off before the
// hand-over gives the place back; a window that passes while a proposal awaits the answer waits
// for it, and once the answer is no, the hold expires and the next member is told.
TEST_F(HoldsTest, a_hold_is_fulfilled_by_the_accept_and_a_declined_proposal_keeps_the_place) {
  MemberInfo owner = member("Agathe"), borrower = member("Basile"), first = member("Chloé"),
             second = member("Diane");
  const std::string offer_id = lend_offer(owner, 0);
  const std::string loan = handed_over_loan(owner, borrower, offer_id, kHourS, 2 * kDayS);
  ASSERT_TRUE(eventually([&] { return join(first, offer_id).status == 201; }, kSagaTimeoutMs));
  ASSERT_EQ(join(second, offer_id).status, 201);
  return_both(owner, borrower, loan);
  ASSERT_TRUE(eventually([&] { return own_hold(first, offer_id).value("state", "") == "ready"; },
                         kSagaTimeoutMs))
      << queue(owner, offer_id).dump();
  const std::string until = own_hold(first, offer_id)["pickup_until"];
  auto expect_first_and_ready = [&](const std::string& step) {
    const Json hold = own_hold(first, offer_id);
    EXPECT_EQ(hold.value("state", ""), "ready") << step << ": " << hold.dump();
    EXPECT_EQ(hold.value("position", 0), 1) << step;
    EXPECT_EQ(hold.value("pickup_until", ""), until) << step;
    EXPECT_EQ(own_hold(second, offer_id).value("state", ""), "waiting") << step;
  };

  // The first asks for the object (in an hour, for two days): the proposal's id in `proposal`.
  auto ask = [&](std::string& proposal) {
    auto asked = ex(first).post("/v1/exchanges", loan_body(offer_id, kHourS, 2 * kDayS));
    ASSERT_EQ(asked.status, 201) << asked.body;
    proposal = asked.json()["id"];
  };
  // An answer (200) that gives the first their place back, with what is left of the window.
  auto back_first_and_ready = [&](const HttpResult& answer, const std::string& step) {
    ASSERT_EQ(answer.status, 200) << answer.body;
    expect_first_and_ready(step);
  };

  // Asked: still first and ready, the proposal named; nobody else may ask meanwhile.
  std::string proposal;
  ASSERT_NO_FATAL_FAILURE(ask(proposal));
  expect_first_and_ready("asked");
  EXPECT_EQ(own_hold(first, offer_id)["exchange_id"], proposal);
  EXPECT_EQ(queue(owner, offer_id)["length"], 2);
  EXPECT_EQ(ex(second).post("/v1/exchanges", loan_body(offer_id, kHourS, kDayS)).json()["code"],
            "held-for-another");

  // Declined: the same place, the same window.
  ASSERT_NO_FATAL_FAILURE(
      back_first_and_ready(ex(owner).post("/v1/exchanges/" + proposal + "/decline"), "declined"));

  // Accepted: fulfilled, out of the queue; called off before the hand-over: back, first.
  std::string accepted;
  ASSERT_NO_FATAL_FAILURE(ask(accepted));
  ASSERT_EQ(ex(owner).post("/v1/exchanges/" + accepted + "/accept").status, 202);
  ASSERT_TRUE(becomes(owner, accepted, "state", "accepted"));
  EXPECT_TRUE(own_hold(first, offer_id).empty()) << queue(owner, offer_id).dump();
  EXPECT_EQ(queue(owner, offer_id)["length"], 1);
  EXPECT_EQ(own_hold(second, offer_id)["position"], 1);
  ASSERT_NO_FATAL_FAILURE(back_first_and_ready(
      ex(first).post("/v1/exchanges/" + accepted + "/cancel"), "cancelled before the hand-over"));

  // Asked a third time, and the window passes unanswered: the hold waits for the answer.
  std::string waiting;
  ASSERT_NO_FATAL_FAILURE(ask(waiting));
  clock->advance_s(kPickupDays * kDayS + kHourS);
  ASSERT_TRUE(job_goes_round(exchange->url(), "advance-holds", kSagaTimeoutMs));
  expect_first_and_ready("the window passed while the owner had not answered");
  // The answer is no: nothing is left of the window, the second is told.
  ASSERT_EQ(ex(owner).post("/v1/exchanges/" + waiting + "/decline").status, 200);
  ASSERT_TRUE(eventually([&] { return own_hold(second, offer_id).value("state", "") == "ready"; },
                         kSagaTimeoutMs))
      << queue(owner, offer_id).dump();
  EXPECT_TRUE(own_hold(first, offer_id).empty());
}

// GET /v1/me/holds: a member's holds across objects, in the order they joined, with the object's
// title, the place in each queue and, once it is their turn, until when the object waits.
TEST_F(HoldsTest, a_member_sees_their_holds_across_objects) {
  MemberInfo owner = member("Élodie"), borrower = member("Fabien"), holder = member("Gaston"),
             other = member("Hélène");
  const std::string drill = lend_offer(owner, 0);
  auto posted = Client(offers->url(), owner.token)
                    .post("/v1/offers", {{"kind", "good"},
                                         {"mode", "lend"},
                                         {"category", "perceuses"},
                                         {"title", "Scie circulaire"},
                                         {"location", {{"lat", 50.63}, {"lon", 3.07}}}});
  ASSERT_EQ(posted.status, 201) << posted.body;
  const std::string saw = posted.json()["id"];
  const std::string drill_loan = handed_over_loan(owner, borrower, drill, kHourS, 2 * kDayS);
  handed_over_loan(owner, borrower, saw, kHourS, 2 * kDayS);
  ASSERT_TRUE(eventually([&] { return join(other, saw).status == 201; }, kSagaTimeoutMs));
  ASSERT_EQ(join(holder, drill).status, 201);
  ASSERT_EQ(join(holder, saw).status, 201);
  auto mine = [&](const MemberInfo& who) {
    auto r = ex(who).get("/v1/me/holds");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["items"];
  };

  Json items = mine(holder);
  ASSERT_EQ(items.size(), 2u) << items.dump();
  EXPECT_EQ(items[0]["offer_id"], drill);
  EXPECT_EQ(items[0]["offer_title"], "Perceuse à percussion");
  EXPECT_EQ(items[0]["position"], 1);
  EXPECT_EQ(items[1]["offer_id"], saw);
  EXPECT_EQ(items[1]["offer_title"], "Scie circulaire");
  EXPECT_EQ(items[1]["position"], 2);  // Hélène queued first
  for (const Json& h : items) {
    EXPECT_EQ(h["member_id"], holder.id);
    EXPECT_EQ(h["state"], "waiting");
    EXPECT_TRUE(h["pickup_until"].is_null());
  }
  ASSERT_EQ(mine(other).size(), 1u);
  EXPECT_EQ(mine(other)[0]["offer_id"], saw);
  EXPECT_TRUE(mine(owner).empty());

  // The drill is back: the holder's turn, with the pick-up deadline.
  return_both(owner, borrower, drill_loan);
  ASSERT_TRUE(
      eventually([&] { return mine(holder)[0].value("state", "") == "ready"; }, kSagaTimeoutMs));
  items = mine(holder);
  EXPECT_EQ(items[0]["pickup_until"], own_hold(holder, drill)["pickup_until"]);
  EXPECT_FALSE(items[0]["pickup_until"].is_null());
  EXPECT_EQ(items[1]["state"], "waiting");
  // Left: gone from the list.
  EXPECT_EQ(ex(holder).del("/v1/holds/" + items[1]["id"].get<std::string>()).status, 204);
  EXPECT_EQ(mine(holder).size(), 1u);
}

TEST_F(HoldsTest, a_member_leaves_the_queue_and_the_next_one_moves_up) {
  MemberInfo owner = member("Lina"), borrower = member("Marc"), a = member("Noé"),
             b = member("Olga");
  const std::string offer_id = lend_offer(owner, 0);
  handed_over_loan(owner, borrower, offer_id, kHourS, 2 * kDayS);
  ASSERT_TRUE(eventually([&] { return join(a, offer_id).status == 201; }, kSagaTimeoutMs));
  ASSERT_EQ(join(b, offer_id).status, 201);
  const std::string a_hold = own_hold(a, offer_id)["id"];
  EXPECT_EQ(ex(a).del("/v1/holds/" + a_hold).status, 204);
  EXPECT_EQ(own_hold(b, offer_id)["position"], 1);
  // Once left, a member may join again, at the end of the queue.
  auto back = join(a, offer_id);
  ASSERT_EQ(back.status, 201) << back.body;
  EXPECT_EQ(back.json()["position"], 2);
}

TEST_F(HoldsTest, renewals_stop_at_max_renewals_and_never_once_late) {
  MemberInfo owner = member("Pauline"), borrower = member("Quentin");
  const std::string offer_id = lend_offer(owner, 0);
  const std::string id = handed_over_loan(owner, borrower, offer_id, kHourS, 2 * kDayS);
  const std::string path = "/v1/exchanges/" + id;
  // The policy's default max_renewals: 2.
  for (int i = 1; i <= 2; ++i) {
    auto asked = ex(borrower).post(path + "/renew", {{"due_at", at((2 + 2 * i) * kDayS)}});
    ASSERT_EQ(asked.status, 200) << asked.body;
    auto granted = ex(owner).post(path + "/renew/accept");
    ASSERT_EQ(granted.status, 200) << granted.body;
    EXPECT_EQ(granted.json()["renewals"], i);
    EXPECT_EQ(granted.json()["max_renewals"], 2);
  }
  auto third = ex(borrower).post(path + "/renew", {{"due_at", at(10 * kDayS)}});
  EXPECT_EQ(third.status, 422) << third.body;
  EXPECT_EQ(third.json()["code"], "too-many-renewals");
  EXPECT_NE(third.json().value("detail", "").find("prolongé"), std::string::npos);

  MemberInfo late_one = member("Rose");
  const std::string other = lend_offer(owner, 0);
  const std::string late = handed_over_loan(owner, late_one, other, kHourS, kDayS);
  clock->advance_s(kDayS + kHourS);
  ASSERT_TRUE(becomes(owner, late, "state", "late"));
  auto refused = ex(late_one).post("/v1/exchanges/" + late + "/renew", {{"due_at", at(3 * kDayS)}});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.json()["code"], "renewal-while-late");
  return_both(owner, late_one, late);
}

// The site opens on some weekdays only, with one exceptional closing: a due date on a closed day
// moves to the same local time of the next day it opens (the proposal's and a renewal's).
TEST_F(HoldsTest, a_due_date_on_a_closed_day_moves_to_the_next_open_day) {
  const std::string workshop =
      world->create_site(community, "Atelier du Marais", 50.63, 3.08, "objetotheque");
  // Noon UTC is the early afternoon in Paris: the same date either way.
  const int64_t due = (now_s() / kDayS + 3) * kDayS + 12 * kHourS;
  auto weekday = [](int64_t s) {
    static constexpr const char* kKeys[] = {"thu", "fri", "sat", "sun", "mon", "tue", "wed"};
    return std::string(kKeys[(s / kDayS) % 7]);  // 1970-01-01 was a Thursday
  };
  Json weekly = Json::object();
  for (const char* day : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
    weekly[day] = Json::array({Json::array({"10:00", "18:00"})});
  }
  weekly.erase(weekday(due));          // closed that weekday
  weekly.erase(weekday(due + kDayS));  // and the next
  const std::string holiday = format_rfc3339(due + 2 * kDayS).substr(0, 10);
  auto patched = world->admin().patch(
      "/v1/sites/" + workshop,
      {{"opening_hours",
        {{"weekly", weekly},
         {"exceptions", Json::array({{{"date", holiday}, {"closed", true}}})}}}});
  ASSERT_EQ(patched.status, 200) << patched.body;

  MemberInfo owner = member("Sacha"), borrower = member("Théo");
  auto offer = Client(offers->url(), owner.token)
                   .post("/v1/offers", {{"kind", "good"},
                                        {"mode", "lend"},
                                        {"category", "perceuses"},
                                        {"title", "Scie sauteuse"},
                                        {"site_id", workshop}});
  ASSERT_EQ(offer.status, 201) << offer.body;
  const std::string offer_id = offer.json()["id"];
  const std::string expected_date = format_rfc3339(due + 3 * kDayS).substr(0, 10);
  // The exchange service learns the hours from the site's event: ask until the date moves.
  HttpResult created;
  ASSERT_TRUE(eventually(
      [&] {
        created = propose(
            borrower,
            {{"offer_id", offer_id}, {"starts_at", at(kHourS)}, {"due_at", format_rfc3339(due)}});
        if (created.status != 201) return false;
        const std::string moved = created.json().value("due_at", "");
        if (moved.substr(0, 10) == expected_date) return true;
        ex(borrower).post("/v1/exchanges/" + created.json().value("id", "") + "/cancel");
        return false;
      },
      kSagaTimeoutMs))
      << created.body;
  // The same local time three days later (a clock change between would move it by an hour).
  const int64_t moved = parse_rfc3339_s(created.json()["due_at"].get<std::string>()).value_or(0);
  EXPECT_LE(std::abs(moved - (due + 3 * kDayS)), kHourS) << created.body;

  // A renewal asked for a closed day moves the same way.
  const std::string id = created.json()["id"];
  ASSERT_EQ(ex(owner).post("/v1/exchanges/" + id + "/accept").status, 202);
  ASSERT_TRUE(becomes(owner, id, "state", "accepted"));
  ASSERT_EQ(ex(borrower).post("/v1/exchanges/" + id + "/handover").status, 200);
  ASSERT_EQ(ex(owner).post("/v1/exchanges/" + id + "/handover").status, 200);
  ASSERT_TRUE(becomes(owner, id, "state", "handed_over"));
  const int64_t renewal = due + 7 * kDayS;  // the same weekday: closed
  auto asked =
      ex(borrower).post("/v1/exchanges/" + id + "/renew", {{"due_at", format_rfc3339(renewal)}});
  ASSERT_EQ(asked.status, 200) << asked.body;
  EXPECT_EQ(asked.json()["requested_due_at"].get<std::string>().substr(0, 10),
            format_rfc3339(renewal + 2 * kDayS).substr(0, 10));
}

TEST_F(HoldsTest, late_notices_repeat_every_week_and_once_per_week) {
  MemberInfo owner = member("Ugo"), borrower = member("Vera");
  const std::string offer_id = lend_offer(owner, 0);
  const std::string id = handed_over_loan(owner, borrower, offer_id, kHourS, kDayS);
  auto late_events = [&] {
    std::vector<Json> out;
    for (Json& e : events_of("exchange.late")) {
      if (e["data"]["exchange_id"] == id) out.push_back(std::move(e));
    }
    return out;
  };
  auto told = [&] { return notifications_of(borrower, "exchange.late").size(); };
  // Three more committed rounds of the weekly job (its /metrics), not a wait for time.
  auto late_job_goes_round = [&] {
    return job_goes_round(exchange->url(), "weekly-late-notices", kSagaTimeoutMs);
  };

  clock->advance_s(kDayS + kHourS);  // the first late day
  ASSERT_TRUE(eventually([&] { return late_events().size() == 1; }, kSagaTimeoutMs));
  ASSERT_TRUE(eventually([&] { return told() == 1; }, kSagaTimeoutMs));
  clock->advance_s(kWeekS);  // a week late
  ASSERT_TRUE(eventually([&] { return late_events().size() == 2; }, kSagaTimeoutMs));
  // More rounds of the job in the same week tell nothing more.
  ASSERT_TRUE(late_job_goes_round());
  EXPECT_EQ(late_events().size(), 2u);
  clock->advance_s(kWeekS);  // two weeks late
  ASSERT_TRUE(eventually([&] { return late_events().size() == 3; }, kSagaTimeoutMs));
  const auto events = late_events();
  EXPECT_FALSE(events[0]["data"].contains("late_notice"));
  EXPECT_EQ(events[1]["data"]["late_notice"], 1);
  EXPECT_EQ(events[2]["data"]["late_notice"], 2);
  for (const Json& e : events) expect_valid(e);
  ASSERT_TRUE(eventually([&] { return told() == 3; }, kSagaTimeoutMs));
  EXPECT_EQ(notifications_of(owner, "exchange.late").size(), 1u);  // the owner: the first only

  // Returned: no more notices, however late the clock.
  return_both(owner, borrower, id);
  clock->advance_s(kWeekS);
  ASSERT_TRUE(late_job_goes_round());
  EXPECT_EQ(late_events().size(), 3u);
}

// The depot's loans are told again every week as loans between members are (one rule,
// exchange/late_notices.hpp): loan.late with late_notice N, each week once however often the job
// runs, none after the return; notify passes each to the borrower.
TEST_F(HoldsTest, depot_late_notices_repeat_every_week_and_once_per_week) {
  MemberInfo borrower = member("Irène");
  Client desk(depot->url(), staff.token);
  HttpResult intake;
  // The depot learns the site from the members stream: asked until it knows it.
  ASSERT_TRUE(eventually(
      [&] {
        intake = desk.post("/v1/sites/" + site + "/items", {{"category", "perceuses"},
                                                            {"title", "Ponceuse à bande"},
                                                            {"condition", "good"},
                                                            {"weight_g", 1500},
                                                            {"mode", "lend"}});
        return intake.status == 201;
      },
      kSagaTimeoutMs))
      << intake.body;
  const std::string item = intake.json()["id"];
  auto lent =
      desk.post("/v1/items/" + item + "/lend", {{"member_id", borrower.id}, {"due_at", at(kDayS)}});
  ASSERT_EQ(lent.status, 200) << lent.body;
  auto late_events = [&] {
    std::vector<Json> out;
    for (Json& e : stream_events("depot")) {
      if (e["type"] == "loan.late" && e["data"]["item_id"] == item) out.push_back(std::move(e));
    }
    return out;
  };
  auto told = [&] {
    size_t count = 0;
    for (const Json& n : notifications_of(borrower, "loan.late")) {
      count += n["data"].value("item_id", "") == item ? 1 : 0;
    }
    return count;
  };
  // Three more committed rounds of the depot's weekly job (its /metrics), not a wait for time.
  auto late_job_goes_round = [&] {
    return job_goes_round(depot->url(), "depot-weekly-late-notices", kSagaTimeoutMs);
  };

  clock->advance_s(kDayS + kHourS);  // the first late day: the first notice only
  ASSERT_TRUE(eventually([&] { return late_events().size() == 1; }, kSagaTimeoutMs));
  ASSERT_TRUE(late_job_goes_round());
  EXPECT_EQ(late_events().size(), 1u);
  clock->advance_s(kWeekS);  // a week late
  ASSERT_TRUE(eventually([&] { return late_events().size() == 2; }, kSagaTimeoutMs));
  ASSERT_TRUE(late_job_goes_round());  // more rounds in the same week tell nothing more
  EXPECT_EQ(late_events().size(), 2u);
  clock->advance_s(kWeekS);  // two weeks late
  ASSERT_TRUE(eventually([&] { return late_events().size() == 3; }, kSagaTimeoutMs));
  const auto events = late_events();
  EXPECT_FALSE(events[0]["data"].contains("late_notice"));
  EXPECT_EQ(events[1]["data"]["late_notice"], 1);
  EXPECT_EQ(events[2]["data"]["late_notice"], 2);
  for (const Json& e : events) {
    EXPECT_EQ(e["data"]["member_id"], borrower.id);
    expect_valid(e);
  }
  ASSERT_TRUE(eventually([&] { return told() == 3; }, kSagaTimeoutMs));

  // Back at the desk: no more notices, however late the clock.
  ASSERT_EQ(desk.post("/v1/items/" + item + "/return", {{"condition", "good"}}).status, 200);
  clock->advance_s(kWeekS);
  ASSERT_TRUE(late_job_goes_round());
  EXPECT_EQ(late_events().size(), 3u);
}

}  // namespace
}  // namespace maillon::testing
