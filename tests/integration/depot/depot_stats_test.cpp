// Impact figures: a month of depot activity and exchanges scripted day by day with a moved
// clock; /v1/stats and the CSV export must equal the figures counted by hand below, with every
// count of people's events below 5 in a site's day published as "<5" (http_stats.cpp).
#include <gtest/gtest.h>

#include <ctime>
#include <sstream>

#include "depot_world.hpp"

namespace maillon::testing {
namespace {

int64_t march_2030(int day) {
  std::tm tm{};
  tm.tm_year = 130;
  tm.tm_mon = 2;
  tm.tm_mday = day;
  tm.tm_hour = 10;  // mid-morning: a few seconds of drift never change the day
  return static_cast<int64_t>(timegm(&tm));
}

class ScriptedMonth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    w = new DepotWorld("month");
    alice = w->member("Alice");
    bob = w->member("Bob");
    carol = w->member("Carole");
    dave = w->member("David");
    eve = w->member("Eve");
    run_script();
  }
  static void TearDownTestSuite() { delete w; }

  static void on_day(int day) { w->set_clock(march_2030(day)); }
  static void ok(const HttpResult& r) {
    if (r.status != 200) throw std::runtime_error(r.body);
  }
  static void exchange(int day, const std::optional<std::string>& site, int minutes,
                       const MemberInfo& provider, const MemberInfo& receiver) {
    w->inject("exchanges", "exchange.completed", rfc3339(march_2030(day)),
              {{"exchange_id", DepotWorld::uuid()},
               {"state", "completed"},
               {"provider_id", provider.id},
               {"receiver_id", receiver.id},
               {"minutes", minutes},
               {"site_id", site ? Json(*site) : Json(nullptr)}});
  }

  // Hand count, March 2030 (site S = the depot's site, "network" = exchanges at no site):
  //  d1  intake A give 2000 g (Alice), B give 500 g (anonymous), L lend 3000 g (Bob)
  //  d2  Alice reserves A, staff hand it to her                 -> reused 1, 2000 g
  //  d3  exchange at S 90 min (Alice->Bob); network 30 min (Carole->David)
  //  d5  L lent to Carole until d9; d9 returned                  -> loan 1
  //  d12 L lent to Alice until d15                               -> loan 1
  //  d20 B redirected to recycling; intake C give 1500 g (Carole)
  //  d25 C handed to Bob; exchange network 60 min (Alice->Carole) -> reused 1, 1500 g
  //  d28 five exchanges at S of 10 min among five members         -> the one published day
  static void run_script() {
    on_day(1);
    std::string a = w->intake("give", 2000, alice.id);
    b = w->intake("give", 500);
    std::string l = w->intake("lend", 3000, bob.id);
    on_day(2);
    ok(w->as(alice).post("/v1/items/" + a + "/reserve"));
    ok(w->desk().post("/v1/items/" + a + "/collect", Json::object()));
    exchange(3, w->site, 90, alice, bob);
    exchange(3, std::nullopt, 30, carol, dave);
    on_day(5);
    ok(w->desk().post("/v1/items/" + l + "/lend",
                      {{"member_id", carol.id}, {"due_at", rfc3339(march_2030(9))}}));
    on_day(9);
    ok(w->desk().post("/v1/items/" + l + "/return", {{"condition", "good"}}));
    on_day(12);
    ok(w->desk().post("/v1/items/" + l + "/lend",
                      {{"member_id", alice.id}, {"due_at", rfc3339(march_2030(15))}}));
    on_day(20);
    ok(w->desk().post("/v1/items/" + b + "/redirect",
                      {{"outlet", "recycle"}, {"partner", "Triselec"}}));
    std::string c = w->intake("give", 1500, carol.id);
    on_day(25);
    ok(w->desk().post("/v1/items/" + c + "/collect", {{"member_id", bob.id}}));
    exchange(25, std::nullopt, 60, alice, carol);
    exchange(28, w->site, 10, alice, bob);
    exchange(28, w->site, 10, carol, dave);
    exchange(28, w->site, 10, eve, alice);
    exchange(28, w->site, 10, bob, carol);
    exchange(28, w->site, 10, dave, eve);
    on_day(31);
    // One stream, one consumer, in order: the last day counted means every exchange is.
    bool consumed = eventually(
        [] {
          return w->desk()
                     .get("/v1/stats?community_id=" + w->community +
                          "&from=2030-03-01&to=2030-03-31")
                     .json()["exchanges_completed"] == 5;
        },
        10000);
    if (!consumed) throw std::runtime_error("the exchanges never reached the counters");
  }

  static Json stats(const std::string& query) {
    auto r = Client(w->depot->url()).get("/v1/stats?community_id=" + w->community + query);
    if (r.status != 200) throw std::runtime_error(r.body);
    return r.json();
  }

  static std::string csv(const std::string& query) {
    auto r =
        Client(w->depot->url()).get("/v1/stats/export.csv?community_id=" + w->community + query);
    if (r.status != 200) throw std::runtime_error(r.body);
    return r.body;
  }

  static DepotWorld* w;
  static MemberInfo alice, bob, carol, dave, eve;
  static std::string b;
};

DepotWorld* ScriptedMonth::w = nullptr;
MemberInfo ScriptedMonth::alice, ScriptedMonth::bob, ScriptedMonth::carol, ScriptedMonth::dave,
    ScriptedMonth::eve;
std::string ScriptedMonth::b;

TEST_F(ScriptedMonth, stats_of_the_month_equal_the_hand_count) {
  const Json s = stats("&from=2030-03-01&to=2030-03-31");
  EXPECT_EQ(s["items_in"], 4);
  EXPECT_EQ(s["items_reused"], 2);
  EXPECT_DOUBLE_EQ(s["kg_reused"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(s["kg_redirected"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(s["kg_redirected_by_outlet"]["recycle"].get<double>(), 0.5);
  // Kilograms and items are exact; counts of people's events add only the published days:
  // two loans on two days are "<5", the five exchanges of the 28th count, with their minutes.
  EXPECT_EQ(s["loans"], "<5");
  EXPECT_EQ(s["exchanges_completed"], 5);
  EXPECT_EQ(s["minutes_exchanged"], 50);
  EXPECT_EQ(s["active_members"], 5);  // member-days of published days: the five of the 28th
}

TEST_F(ScriptedMonth, stats_of_one_site_leave_out_the_network_exchanges) {
  const Json s = stats("&site_id=" + w->site + "&from=2030-03-01&to=2030-03-31");
  EXPECT_EQ(s["items_in"], 4);
  EXPECT_EQ(s["exchanges_completed"], 5);
  EXPECT_EQ(s["minutes_exchanged"], 50);
  EXPECT_EQ(s["active_members"], 5);
  // The network had two exchanges (3rd and 25th): neither the count nor the minutes show, and
  // the community's total minus the site's says nothing more (5 - 5 = 0).
  const Json network = stats("&site_id=network&from=2030-03-01&to=2030-03-31");
  EXPECT_EQ(network["exchanges_completed"], "<5");
  EXPECT_EQ(network["minutes_exchanged"], 0);
  EXPECT_EQ(network["active_members"], "<5");
  EXPECT_EQ(network["items_in"], 0);
}

TEST_F(ScriptedMonth, stats_of_part_of_the_month_count_only_its_days) {
  const Json s = stats("&from=2030-03-10&to=2030-03-31");
  EXPECT_EQ(s["items_in"], 1);
  EXPECT_EQ(s["items_reused"], 1);
  EXPECT_DOUBLE_EQ(s["kg_reused"].get<double>(), 1.5);
  EXPECT_EQ(s["loans"], "<5");
  EXPECT_EQ(s["exchanges_completed"], 5);
  EXPECT_EQ(s["minutes_exchanged"], 50);
  EXPECT_EQ(s["active_members"], 5);
  EXPECT_EQ(Client(w->depot->url()).get("/v1/stats?from=2030-03-31&to=2030-03-01").status, 400);
}

TEST_F(ScriptedMonth, csv_export_has_one_row_per_site_and_day_and_no_personal_data) {
  auto r = Client(w->depot->url())
               .get("/v1/stats/export.csv?community_id=" + w->community +
                    "&from=2030-03-01&to=2030-03-31");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers["content-type"].find("text/csv"), std::string::npos);
  const std::string& csv = r.body;
  const std::string s = w->site;
  EXPECT_EQ(csv,
            "site_id,day,items_in,items_reused,kg_reused,kg_redirected_reuse,kg_redirected_recycle,"
            "kg_redirected_waste,loans,exchanges_completed,minutes_exchanged,active_members\n" +
                s + ",2030-03-01,3,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-03-02,0,1,2.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-03-03,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" +
                "network,2030-03-03,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-03-05,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-03-09,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-03-12,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-03-20,1,0,0.000,0.000,0.500,0.000,<5,<5,,<5\n" + s +
                ",2030-03-25,0,1,1.500,0.000,0.000,0.000,<5,<5,,<5\n" +
                "network,2030-03-25,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-03-28,0,0,0.000,0.000,0.000,0.000,<5,5,50,5\n");
  for (const MemberInfo* m : {&alice, &bob, &carol, &dave, &eve, &w->staff}) {
    EXPECT_EQ(csv.find(m->id), std::string::npos);
    EXPECT_EQ(csv.find(m->email), std::string::npos);
  }
  for (const char* name : {"Alice", "Bob", "Carole", "David", "Eve", "Equipe"}) {
    EXPECT_EQ(csv.find(name), std::string::npos) << name;
  }
}

// The sums of the CSV's published cells over some rows: what any total must equal.
struct CellSums {
  int64_t loans = 0, exchanges = 0, minutes = 0, active = 0;
};

CellSums published_sums(const std::string& csv, const std::string& site, const std::string& from,
                        const std::string& to) {
  CellSums sums;
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);  // header
  auto number = [](const std::string& cell) {
    return cell == "<5" || cell.empty() ? 0 : std::stoll(cell);
  };
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (line.back() == ',') cells.emplace_back();
    if (cells.size() != 12) throw std::runtime_error("bad CSV row " + line);
    if ((!site.empty() && cells[0] != site) || cells[1] < from || cells[1] > to) continue;
    sums.loans += number(cells[8]);
    sums.exchanges += number(cells[9]);
    sums.minutes += number(cells[10]);
    sums.active += number(cells[11]);
  }
  return sums;
}

Json published(int64_t count) {
  return count < 5 ? Json("<5") : Json(count);
}

// Whatever the period or site asked, a total is the sum of published cells: two answers never
// differ by a count the CSV hides, however they overlap.
TEST_F(ScriptedMonth, every_total_is_the_sum_of_the_published_cells_of_the_csv) {
  const std::string all = csv("&from=2030-03-01&to=2030-03-31");
  const std::vector<std::pair<std::string, std::string>> periods = {
      {"2030-03-01", "2030-03-31"}, {"2030-03-01", "2030-03-27"}, {"2030-03-03", "2030-03-03"},
      {"2030-03-04", "2030-03-28"}, {"2030-03-28", "2030-03-28"}, {"2030-03-01", "2030-03-24"}};
  for (const std::string& site : {std::string(), w->site, std::string("network")}) {
    for (const auto& [from, to] : periods) {
      const Json s =
          stats((site.empty() ? "" : "&site_id=" + site) + "&from=" + from + "&to=" + to);
      const CellSums sums = published_sums(all, site, from, to);
      SCOPED_TRACE(site + " " + from + ".." + to);
      EXPECT_EQ(s["loans"], published(sums.loans));
      EXPECT_EQ(s["exchanges_completed"], published(sums.exchanges));
      EXPECT_EQ(s["minutes_exchanged"], sums.minutes);
      EXPECT_EQ(s["active_members"], published(sums.active));
    }
  }
  // The month without its last days: the exchanges of the 3rd and the 25th stay hidden.
  EXPECT_EQ(stats("&from=2030-03-01&to=2030-03-27")["exchanges_completed"], "<5");
  EXPECT_EQ(stats("&from=2030-03-01&to=2030-03-27")["minutes_exchanged"], 0);
}

}  // namespace
}  // namespace maillon::testing

namespace maillon::testing {
namespace {

int64_t april_2030(int day) {
  std::tm tm{};
  tm.tm_year = 130;
  tm.tm_mon = 3;
  tm.tm_mday = day;
  tm.tm_hour = 10;
  return static_cast<int64_t>(timegm(&tm));
}

TEST(DepotExport, a_day_with_only_a_return_or_a_reservation_is_still_a_row) {
  DepotWorld w("quiet days");
  const MemberInfo alice = w.member("Alice");
  w.set_clock(april_2030(1));
  const std::string lent = w.intake("lend", 3000);
  const std::string given = w.intake("give", 700);
  w.set_clock(april_2030(3));
  ASSERT_EQ(w.desk()
                .post("/v1/items/" + lent + "/lend",
                      {{"member_id", alice.id}, {"due_at", rfc3339(april_2030(8))}})
                .status,
            200);
  w.set_clock(april_2030(5));
  ASSERT_EQ(w.desk().post("/v1/items/" + lent + "/return", {{"condition", "good"}}).status, 200);
  w.set_clock(april_2030(7));
  ASSERT_EQ(w.as(alice).post("/v1/items/" + given + "/reserve").status, 200);

  auto r = Client(w.depot->url())
               .get("/v1/stats/export.csv?community_id=" + w.community +
                    "&from=2030-04-01&to=2030-04-10");
  ASSERT_EQ(r.status, 200);
  const std::string& s = w.site;
  EXPECT_EQ(r.body,
            "site_id,day,items_in,items_reused,kg_reused,kg_redirected_reuse,kg_redirected_recycle,"
            "kg_redirected_waste,loans,exchanges_completed,minutes_exchanged,active_members\n" +
                s + ",2030-04-01,2,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-04-03,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-04-05,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n" + s +
                ",2030-04-07,0,0,0.000,0.000,0.000,0.000,<5,<5,,<5\n");
}

}  // namespace
}  // namespace maillon::testing
