// The depot service through HTTP on real PostgreSQL and Redis: intake, each transition, the
// limits, lapses and loan notices with a moved clock, ledger commands and refusals, and races.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "depot_world.hpp"
#include "json_schema.hpp"
#include "services/depot/depot.hpp"

namespace maillon::testing {
namespace {

Json lend_body(const std::string& member_id, int64_t due_at_s) {
  return {{"member_id", member_id}, {"due_at", rfc3339(due_at_s)}};
}

TEST(DepotItems, intake_is_for_staff_of_the_site_and_rewards_the_depositor_once) {
  DepotWorld w("intake", {{"deposit_reward", 45}});
  MemberInfo alice = w.member("Alice");
  Json body = {{"category", "perceuses"}, {"title", "Perceuse"},
               {"condition", "good"},     {"weight_g", 2500},
               {"mode", "give"},          {"dropped_by_member_id", alice.id}};
  EXPECT_EQ(w.as(alice).post("/v1/sites/" + w.site + "/items", body).status, 403);
  Json bad = body;
  bad["condition"] = "cassé";
  bad["category"] = "inconnue";
  EXPECT_EQ(w.desk().wrong().post("/v1/sites/" + w.site + "/items", bad).status, 400);

  auto r = w.desk().post("/v1/sites/" + w.site + "/items", body);
  ASSERT_EQ(r.status, 201) << r.body;
  const Json item = r.json();
  EXPECT_EQ(item["status"], "available");
  EXPECT_EQ(item["weight_g"], 2500);
  const std::string id = item["id"].get<std::string>();

  ASSERT_TRUE(
      eventually([&] { return !w.events_of("ledger.commands", "ledger.grant", id).empty(); }));
  auto grants = w.events_of("ledger.commands", "ledger.grant", id);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].data()["transfer_id"], "deposit:" + id);
  EXPECT_EQ(grants[0].data()["to_member_id"], alice.id);
  EXPECT_EQ(grants[0].data()["minutes"], 45);
  EXPECT_EQ(grants[0].data()["kind"], "deposit_reward");
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  EXPECT_TRUE(schemas.validate("ledger.command.schema.json", grants[0].envelope).empty());
  auto available = w.events_of("depot", "item.available", id);
  ASSERT_EQ(available.size(), 1u);
  EXPECT_TRUE(schemas.validate("item.available.schema.json", available[0].envelope).empty());
  EXPECT_EQ(available[0].data()["site_id"], w.site);

  // An anonymous drop earns nothing.
  std::string anonymous = w.intake();
  EXPECT_TRUE(w.events_of("ledger.commands", "ledger.grant", anonymous).empty());
}

TEST(DepotItems, reserve_release_collect_follow_the_item_lifecycle) {
  DepotWorld w("lifecycle");
  MemberInfo alice = w.member("Alice");
  MemberInfo bob = w.member("Bob");
  std::string id = w.intake();

  // The depot's clock runs on from clock_s: the reservation holds 48 h from its instant.
  const int64_t before_s = w.now_s();
  auto r = w.as(alice).post("/v1/items/" + id + "/reserve");
  const int64_t after_s = w.now_s();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["status"], "reserved");
  int64_t until_s = maillon::parse_rfc3339_s(r.json()["reserved_until"].get<std::string>()).value();
  EXPECT_GE(until_s, before_s + 48 * kHourS);
  EXPECT_LE(until_s, after_s + 48 * kHourS);
  EXPECT_EQ(w.as(bob).post("/v1/items/" + id + "/reserve").status, 409);
  EXPECT_EQ(w.as(bob).post("/v1/items/" + id + "/release").status, 403);
  EXPECT_EQ(w.as(alice).post("/v1/items/" + id + "/collect").status, 403);  // staff only

  r = w.as(alice).post("/v1/items/" + id + "/release");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["status"], "available");
  EXPECT_EQ(w.as(alice).post("/v1/items/" + id + "/release").status, 409);

  ASSERT_EQ(w.as(bob).post("/v1/items/" + id + "/reserve").status, 200);
  r = w.desk().post("/v1/items/" + id + "/release");  // staff release anyone's reservation
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(w.as(bob).post("/v1/items/" + id + "/reserve").status, 200);
  r = w.desk().post("/v1/items/" + id + "/collect", Json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["status"], "collected");
  EXPECT_EQ(r.json()["collected_by_member_id"], bob.id);
  EXPECT_EQ(w.as(alice).post("/v1/items/" + id + "/reserve").status, 409);
  EXPECT_EQ(w.desk().post("/v1/items/" + id + "/lend", lend_body(bob.id, w.clock_s + kDayS)).status,
            409);

  ASSERT_TRUE(eventually([&] { return !w.events_of("depot", "item.collected", id).empty(); }));
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  for (const auto& e : w.events("depot")) {
    EXPECT_TRUE(schemas.validate(e.type() + ".schema.json", e.envelope).empty())
        << e.envelope.dump();
  }
  const Json shelf = w.as(alice).get("/v1/sites/" + w.site + "/items?status=collected").json();
  ASSERT_EQ(shelf["items"].size(), 1u);
  EXPECT_FALSE(shelf["items"][0].contains("collected_by_member_id"));  // not for everyone
}

TEST(DepotItems, lend_return_and_redirect_charge_and_record) {
  DepotWorld w("loans", {{"loan_cost", 20}});
  MemberInfo alice = w.member("Alice");
  std::string tool = w.intake("lend");
  std::string chair = w.intake("give");

  EXPECT_EQ(w.desk()
                .post("/v1/items/" + tool + "/lend", lend_body(alice.id, w.clock_s + 200 * kDayS))
                .status,
            422);
  auto r = w.desk().post("/v1/items/" + tool + "/lend", lend_body(alice.id, w.clock_s + 7 * kDayS));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["status"], "on_loan");
  EXPECT_EQ(
      w.desk().post("/v1/items/" + chair + "/lend", lend_body(alice.id, w.clock_s + kDayS)).status,
      422);
  ASSERT_TRUE(
      eventually([&] { return !w.events_of("ledger.commands", "ledger.grant", tool).empty(); }));
  auto charge = w.events_of("ledger.commands", "ledger.grant", tool);
  ASSERT_EQ(charge.size(), 1u);
  EXPECT_EQ(charge[0].data()["transfer_id"], "loan:" + tool + ":1");
  EXPECT_EQ(charge[0].data()["from_member_id"], alice.id);
  EXPECT_EQ(charge[0].data()["minutes"], 20);

  EXPECT_EQ(w.desk().wrong().post("/v1/items/" + tool + "/return", {{"condition", "abîmé"}}).status,
            400);
  r = w.desk().post("/v1/items/" + tool + "/return", {{"condition", "fair"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["status"], "available");
  EXPECT_EQ(r.json()["condition"], "fair");
  EXPECT_EQ(w.desk().post("/v1/items/" + tool + "/return", {{"condition", "fair"}}).status, 409);

  EXPECT_EQ(
      w.desk().wrong().post("/v1/items/" + chair + "/redirect", {{"outlet", "ailleurs"}}).status,
      400);
  EXPECT_EQ(w.as(alice).post("/v1/items/" + chair + "/redirect", {{"outlet", "reuse"}}).status,
            403);
  r = w.desk().post("/v1/items/" + chair + "/redirect",
                    {{"outlet", "recycle"}, {"partner", "Emmaüs Lille"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["status"], "redirected");
  EXPECT_EQ(r.json()["partner"], "Emmaüs Lille");
  EXPECT_EQ(w.as(alice).post("/v1/items/" + chair + "/reserve").status, 409);
}

TEST(DepotItems, a_ledger_refusal_of_the_loan_fee_is_shown_to_staff) {
  DepotWorld w("refusal");
  MemberInfo alice = w.member("Alice");
  std::string tool = w.intake("lend");
  ASSERT_EQ(
      w.desk().post("/v1/items/" + tool + "/lend", lend_body(alice.id, w.clock_s + kDayS)).status,
      200);
  w.inject("ledger.events", "transfer.rejected", rfc3339(w.clock_s),
           {{"transfer_id", "loan:" + tool + ":1"},
            {"reason", "insufficient-credits"},
            {"ref", "item:" + tool}});
  ASSERT_TRUE(eventually(
      [&] { return w.desk().get("/v1/items/" + tool).json().contains("ledger_refusal"); }));
  const Json item = w.desk().get("/v1/items/" + tool).json();
  EXPECT_EQ(item["ledger_refusal"]["reason"], "insufficient-credits");
  EXPECT_FALSE(w.as(alice).get("/v1/items/" + tool).json().contains("ledger_refusal"));
}

TEST(DepotItems, reservations_are_limited_by_the_policy) {
  DepotWorld w("limit", {{"max_active_reservations", 2}});
  MemberInfo alice = w.member("Alice");
  std::vector<std::string> ids = {w.intake(), w.intake(), w.intake()};
  EXPECT_EQ(w.as(alice).post("/v1/items/" + ids[0] + "/reserve").status, 200);
  EXPECT_EQ(w.as(alice).post("/v1/items/" + ids[1] + "/reserve").status, 200);
  auto r = w.as(alice).post("/v1/items/" + ids[2] + "/reserve");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["code"], "reservation-limit");
  ASSERT_EQ(w.as(alice).post("/v1/items/" + ids[0] + "/release").status, 200);
  EXPECT_EQ(w.as(alice).post("/v1/items/" + ids[2] + "/reserve").status, 200);
}

TEST(DepotItems, an_overdue_loan_blocks_borrowing_and_sends_reminder_then_late_notice) {
  DepotWorld w("overdue");
  MemberInfo alice = w.member("Alice");
  std::string tool = w.intake("lend");
  std::string other = w.intake("lend");
  ASSERT_EQ(w.desk()
                .post("/v1/items/" + tool + "/lend", lend_body(alice.id, w.clock_s + 3 * kDayS))
                .status,
            200);
  EXPECT_TRUE(w.events_of("depot", "loan.reminder", tool).empty());

  w.advance(2 * kDayS + 12 * kHourS);  // half a day before the due date
  ASSERT_TRUE(eventually([&] { return w.events_of("depot", "loan.reminder", tool).size() == 1; }));
  EXPECT_EQ(w.as(alice).post("/v1/items/" + other + "/reserve").status, 200);
  ASSERT_EQ(w.as(alice).post("/v1/items/" + other + "/release").status, 200);

  w.advance(kDayS);  // half a day late
  ASSERT_TRUE(eventually([&] { return w.events_of("depot", "loan.late", tool).size() == 1; }));
  auto r = w.as(alice).post("/v1/items/" + other + "/reserve");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["code"], "overdue-loan");
  EXPECT_EQ(
      w.desk().post("/v1/items/" + other + "/lend", lend_body(alice.id, w.clock_s + kDayS)).status,
      422);
  JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  auto late = w.events_of("depot", "loan.late", tool);
  EXPECT_TRUE(schemas.validate("loan.late.schema.json", late[0].envelope).empty());
  EXPECT_EQ(late[0].data()["member_id"], alice.id);

  ASSERT_EQ(w.desk().post("/v1/items/" + tool + "/return", {{"condition", "good"}}).status, 200);
  EXPECT_EQ(w.as(alice).post("/v1/items/" + other + "/reserve").status, 200);
  EXPECT_EQ(w.events_of("depot", "loan.reminder", tool).size(), 1u);  // each sent once
  EXPECT_EQ(w.events_of("depot", "loan.late", tool).size(), 1u);
}

TEST(DepotItems, a_reservation_lapses_when_the_clock_passes_it) {
  DepotWorld w("lapse", {{"reservation_hours", 24}});
  MemberInfo alice = w.member("Alice");
  MemberInfo bob = w.member("Bob");
  std::string id = w.intake();
  ASSERT_EQ(w.as(alice).post("/v1/items/" + id + "/reserve").status, 200);
  w.advance(23 * kHourS);
  EXPECT_EQ(w.as(bob).get("/v1/items/" + id).json()["status"], "reserved");
  EXPECT_EQ(w.as(bob).post("/v1/items/" + id + "/reserve").status, 409);

  w.advance(2 * kHourS);
  EXPECT_EQ(w.as(bob).get("/v1/items/" + id).json()["status"], "available");  // read lapsed
  // The intake's event, then the lapse job's.
  ASSERT_TRUE(eventually([&] { return w.events_of("depot", "item.available", id).size() == 2; }));
  auto r = w.as(bob).post("/v1/items/" + id + "/reserve");
  EXPECT_EQ(r.status, 200);
}

TEST(DepotItems, unclaimed_items_are_listed_and_announced_for_the_desk) {
  DepotWorld w("unclaimed", {{"unclaimed_days", 10}});
  std::string given = w.intake("give");
  std::string lent = w.intake("lend");
  EXPECT_TRUE(
      w.desk().get("/v1/sites/" + w.site + "/items?status=unclaimed").json()["items"].empty());
  w.advance(10 * kDayS + kHourS);
  const Json listed = w.desk().get("/v1/sites/" + w.site + "/items?status=unclaimed").json();
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["id"], given);
  EXPECT_EQ(listed["items"][0]["to_redirect"], true);
  ASSERT_TRUE(
      eventually([&] { return w.events_of("depot", "item.unclaimed", given).size() == 1; }));
  EXPECT_TRUE(w.events_of("depot", "item.unclaimed", lent).empty());
}

TEST(DepotItems, two_members_reserving_the_same_item_at_the_same_instant_one_wins) {
  DepotWorld w("race");
  MemberInfo alice = w.member("Alice");
  MemberInfo bob = w.member("Bob");
  constexpr int kRounds = 15;
  for (int round = 0; round < kRounds; ++round) {
    std::string id = w.intake();
    std::barrier start(2);
    int status[2] = {0, 0};
    auto reserve = [&](int k, const MemberInfo& m) {
      start.arrive_and_wait();
      status[k] = w.as(m).post("/v1/items/" + id + "/reserve").status;
    };
    std::thread a(reserve, 0, std::cref(alice));
    std::thread b(reserve, 1, std::cref(bob));
    a.join();
    b.join();
    std::multiset<int> got = {status[0], status[1]};
    EXPECT_EQ(got, (std::multiset<int>{200, 409})) << "round " << round;
    // Release so that neither reaches the limit of active reservations.
    ASSERT_EQ(w.desk().post("/v1/items/" + id + "/release").status, 200);
  }
}

TEST(DepotItems, a_thousand_concurrent_reservations_keep_every_count_right) {
  DepotWorld w("thousand", {{"max_active_reservations", 5}});
  constexpr int kMembers = 40;
  constexpr int kItems = 150;
  constexpr int kRequests = 1000;
  constexpr int kThreads = 16;
  std::vector<MemberInfo> members;
  for (int k = 0; k < kMembers; ++k) members.push_back(w.member("M" + std::to_string(k)));
  std::vector<std::string> items;
  for (int k = 0; k < kItems; ++k) items.push_back(w.intake());

  std::mutex mutex;
  // A member retrying their own reservation is answered 200 again: count distinct pairs.
  std::map<std::string, std::set<std::string>> winners_by_item;
  std::map<std::string, std::set<std::string>> wins_by_member;
  std::map<int, int> statuses;
  std::atomic<int> next{0};
  auto worker = [&](unsigned seed) {
    std::mt19937 rng(seed);
    for (int n = next++; n < kRequests; n = next++) {
      const MemberInfo& m = members[rng() % kMembers];
      const std::string& item = items[rng() % kItems];
      int status = w.as(m).post("/v1/items/" + item + "/reserve").status;
      std::lock_guard lock(mutex);
      statuses[status] += 1;
      if (status == 200) {
        winners_by_item[item].insert(m.id);
        wins_by_member[m.id].insert(item);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, 1000u + t);
  for (auto& t : threads) t.join();

  int answered = statuses[200] + statuses[409] + statuses[422];
  EXPECT_EQ(answered, kRequests) << "no other status than 200, 409 and 422";
  for (const auto& [item, winners] : winners_by_item) EXPECT_EQ(winners.size(), 1u) << item;
  for (const auto& [member, wins] : wins_by_member) EXPECT_LE(wins.size(), 5u) << member;

  // The shelf agrees with what the clients were told.
  std::map<std::string, std::string> reserved_by;
  std::string cursor;
  do {
    auto r = w.desk().get("/v1/sites/" + w.site + "/items?status=reserved&limit=100" +
                          (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200);
    const Json page = r.json();
    for (const auto& i : page["items"]) reserved_by[i["id"]] = i["reserved_by_member_id"];
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
  } while (!cursor.empty());
  EXPECT_EQ(reserved_by.size(), winners_by_item.size());
  for (const auto& [item, winners] : winners_by_item)
    EXPECT_EQ(reserved_by[item], *winners.begin());
  // One item.reserved per reservation made, none for the retries.
  ASSERT_TRUE(eventually(
      [&] { return w.events_of("depot", "item.reserved").size() == winners_by_item.size(); }));
}

}  // namespace
}  // namespace maillon::testing
