// Open data and members' listings end to end through the nginx gateway (MAILLON_TEST_GATEWAY_URL):
// small counts of people's events never show in /v1/stats nor in the CSV, and a member's
// suspension, reinstatement and erasure reach the listings other members search. Each scenario
// lives in its own community.
#include <gtest/gtest.h>

#include <ctime>
#include <sstream>

#include "e2e/e2e_suite.hpp"

namespace maillon::testing {
namespace {

std::string today_utc() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char out[16];
  std::strftime(out, sizeof out, "%Y-%m-%d", &utc);
  return out;
}

std::string in_days_rfc3339(int days) {
  std::time_t t = std::time(nullptr) + days * 86400;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return out;
}

// The cells of the CSV row of `site` (header names → values); empty when there is none.
std::map<std::string, std::string> csv_row(const std::string& csv, const std::string& site) {
  std::istringstream lines(csv);
  std::string header, line;
  std::getline(lines, header);
  auto split = [](const std::string& text) {
    std::vector<std::string> cells;
    std::istringstream fields(text);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!text.empty() && text.back() == ',') cells.emplace_back();
    return cells;
  };
  const std::vector<std::string> names = split(header);
  while (std::getline(lines, line)) {
    std::vector<std::string> cells = split(line);
    if (cells.empty() || cells[0] != site) continue;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < names.size() && i < cells.size(); ++i) row[names[i]] = cells[i];
    return row;
  }
  return {};
}

class E2eDataTest : public E2eSuite {
 protected:
  static StaffedCommunity community(const std::string& name) {
    StaffedCommunity out = staffed_community(name);
    out.staff.token = token_of(login(out.staff));  // roles are read at login
    return out;
  }
  static std::string token_of(const HttpResult& login) {
    EXPECT_EQ(login.status, 200) << login.body;
    return login.json().value("token", "");
  }
  static bool searched(const MemberInfo& by, const std::string& id) {
    const Json page = as(by).get("/v1/offers?limit=100").json();
    for (const auto& item : page.value("items", Json::array())) {
      if (item.value("id", "") == id) return true;
    }
    return false;
  }
  // An exchange of 30 minutes at the community's site, completed by both parties.
  static void completed_exchange(const StaffedCommunity& c, const MemberInfo& provider,
                                 const MemberInfo& receiver) {
    const std::string id = accepted_exchange(provider, receiver, 30, c.site);
    as(provider).post("/v1/exchanges/" + id + "/complete");
    as(receiver).post("/v1/exchanges/" + id + "/complete");
    ASSERT_TRUE(state_becomes(receiver, id, "completed")) << state_of(receiver, id);
  }
};

TEST_F(E2eDataTest, small_counts_read_less_than_five_and_five_loans_a_number) {
  StaffedCommunity c = community("Open data");
  MemberInfo ana = member(c, "ana"), ben = member(c, "ben"), cleo = member(c, "cleo");
  completed_exchange(c, ana, ben);
  completed_exchange(c, ben, cleo);
  const std::string day = today_utc();
  const std::string period = "community_id=" + c.id + "&from=" + day + "&to=" + day;
  // The depot counts the completed exchanges from the exchanges stream.
  ASSERT_TRUE(poll_until([&] {
    return csv_row(gateway->anonymous().get("/v1/stats/export.csv?" + period).body, c.site).size() >
           0;
  }));
  Json stats = gateway->anonymous().get("/v1/stats?" + period).json();
  EXPECT_EQ(stats["exchanges_completed"], "<5") << stats.dump();
  EXPECT_EQ(stats["minutes_exchanged"], 0) << stats.dump();
  EXPECT_EQ(stats["loans"], "<5");
  auto row = csv_row(gateway->anonymous().get("/v1/stats/export.csv?" + period).body, c.site);
  EXPECT_EQ(row["exchanges_completed"], "<5");
  EXPECT_EQ(row["minutes_exchanged"], "");
  EXPECT_EQ(row["loans"], "<5");

  // Five loans at the site on one day: a number, in both.
  const Client desk = as(c.staff);
  std::vector<MemberInfo> borrowers = {ana, ben, cleo, member(c, "dan"), member(c, "eva")};
  for (const MemberInfo& borrower : borrowers) {
    HttpResult item;
    ASSERT_TRUE(poll_until([&] {  // the depot learns the site from the members stream
      item = desk.post("/v1/sites/" + c.site + "/items", {{"category", "perceuses"},
                                                          {"title", "Perceuse"},
                                                          {"condition", "good"},
                                                          {"weight_g", 2000},
                                                          {"mode", "lend"}});
      return item.status == 201;
    })) << item.body;
    auto lent = desk.post("/v1/items/" + item.json()["id"].get<std::string>() + "/lend",
                          {{"member_id", borrower.id}, {"due_at", in_days_rfc3339(7)}});
    ASSERT_EQ(lent.status, 200) << lent.body;
  }
  stats = gateway->anonymous().get("/v1/stats?" + period).json();
  EXPECT_EQ(stats["loans"], 5) << stats.dump();
  EXPECT_EQ(stats["items_in"], 5);
  EXPECT_EQ(stats["exchanges_completed"], "<5");
  row = csv_row(gateway->anonymous().get("/v1/stats/export.csv?" + period).body, c.site);
  EXPECT_EQ(row["loans"], "5");
  EXPECT_EQ(row["items_in"], "5");
  EXPECT_EQ(row["exchanges_completed"], "<5");
  // The site alone, and the community minus the site, add nothing hidden.
  const Json site_only =
      gateway->anonymous().get("/v1/stats?" + period + "&site_id=" + c.site).json();
  EXPECT_EQ(site_only["loans"], 5);
  EXPECT_EQ(site_only["exchanges_completed"], "<5");
  EXPECT_EQ(site_only["minutes_exchanged"], 0);
}

TEST_F(E2eDataTest, a_suspended_members_listings_disappear_until_reinstated_and_erasure_closes) {
  StaffedCommunity c = community("Standing");
  MemberInfo alice = member(c, "alice"), bob = member(c, "bob");
  const std::string listing = offer(alice, 30);
  ASSERT_TRUE(poll_until([&] { return searched(bob, listing); }));

  auto suspended = gateway->admin().post("/v1/members/" + alice.id + "/suspend",
                                         {{"reason", "annonces abusives"}});
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_TRUE(poll_until([&] { return !searched(bob, listing); }));
  EXPECT_EQ(as(bob).get("/v1/offers/" + listing).status, 404);
  // Sessions revoked: refused before the (incomplete) body is read.
  EXPECT_EQ(as(alice).wrong().post("/v1/offers", {{"title", "x"}}).status, 401);

  auto reinstated = gateway->admin().post("/v1/members/" + alice.id + "/reinstate");
  ASSERT_EQ(reinstated.status, 200) << reinstated.body;
  EXPECT_TRUE(poll_until([&] { return searched(bob, listing); }));
  const Json shown = as(bob).get("/v1/offers/" + listing).json();
  EXPECT_EQ(shown["status"], "active");

  alice.token = token_of(login(alice));
  auto erased = as(alice).call("DELETE", "/v1/me", Json{{"password", "mot-de-passe-1"}}.dump());
  ASSERT_EQ(erased.status, 202) << erased.body;
  EXPECT_TRUE(poll_until(
      [&] { return as(bob).get("/v1/offers/" + listing).json().value("status", "") == "closed"; }));
  EXPECT_TRUE(poll_until([&] { return !searched(bob, listing); }));
}

}  // namespace
}  // namespace maillon::testing
