// Sites that staff run: structured opening hours validated, `open_now` in Europe/Paris time, and
// staff editing their own site (PATCH /v1/sites/{id}) but no other.
#include "services/members/sites_hours.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "harness.hpp"

namespace maillon::testing {
namespace {

using members::open_at;
using members::paris_offset_s;

// One range ["HH:MM", "HH:MM"] and a day's list of them (braces alone would make JSON objects).
Json range(const char* start, const char* end) {
  return Json::array({start, end});
}
Json ranges(std::initializer_list<Json> items) {
  Json out = Json::array();
  for (const Json& item : items) out.push_back(item);
  return out;
}

int64_t utc(int y, unsigned m, unsigned d, int hour, int minute) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{m} / day{d}};
  return duration_cast<seconds>(date.time_since_epoch()).count() + hour * 3600 + minute * 60;
}

TEST(SiteHoursClock, paris_is_utc_plus_one_in_winter_and_two_in_summer) {
  EXPECT_EQ(paris_offset_s(utc(2026, 1, 15, 12, 0)), 3600);
  EXPECT_EQ(paris_offset_s(utc(2026, 7, 15, 12, 0)), 7200);
  // 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC.
  EXPECT_EQ(paris_offset_s(utc(2026, 3, 29, 0, 59)), 3600);
  EXPECT_EQ(paris_offset_s(utc(2026, 3, 29, 1, 0)), 7200);
  EXPECT_EQ(paris_offset_s(utc(2026, 10, 25, 0, 59)), 7200);
  EXPECT_EQ(paris_offset_s(utc(2026, 10, 25, 1, 0)), 3600);
}

TEST(SiteHoursClock, open_at_reads_the_local_weekday_ranges_and_exceptions) {
  const Json hours = {
      {"weekly", {{"wed", ranges({range("10:00", "12:30"), range("14:00", "18:00")})}}},
      {"exceptions", {{{"date", "2026-12-23"}, {"closed", true}}}}};
  // Wednesday 1 July 2026: 08:30 UTC is 10:30 in Paris (summer), 07:59 UTC is 09:59.
  EXPECT_TRUE(open_at(hours, utc(2026, 7, 1, 8, 30)));
  EXPECT_FALSE(open_at(hours, utc(2026, 7, 1, 7, 59)));
  EXPECT_FALSE(open_at(hours, utc(2026, 7, 1, 10, 30)));  // 12:30 local: closed at the end
  // Wednesday 2 December 2026: 09:30 UTC is 10:30 in Paris (winter); 23:30 UTC on Tuesday the
  // 1st is already Wednesday 00:30 locally (closed then).
  EXPECT_TRUE(open_at(hours, utc(2026, 12, 2, 9, 30)));
  EXPECT_FALSE(open_at(hours, utc(2026, 12, 2, 8, 30)));
  // Wednesday 23 December: the exception closes it.
  EXPECT_FALSE(open_at(hours, utc(2026, 12, 23, 9, 30)));
  EXPECT_FALSE(open_at(hours, utc(2026, 7, 2, 8, 30)));  // Thursday: no range
}

TEST(SiteHoursClock, malformed_hours_are_named_by_field) {
  FieldErrors errors;
  members::read_opening_hours(
      Json{{"weekly", {{"mon", ranges({range("18:00", "09:00")})}, {"lun", Json::array()}}},
           {"exceptions", {{{"date", "2026-02-30"}, {"closed", true}}}}},
      errors);
  ASSERT_EQ(errors.size(), 3u);
  errors.clear();
  EXPECT_TRUE(members::read_opening_hours(Json("Du mardi au samedi"), errors));
  EXPECT_TRUE(errors.empty());
}

class SiteHours : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new MembersWorld("sitehours");
    community_ = new std::string(world_->create_community("Horaires"));
  }
  static void TearDownTestSuite() {
    delete world_;
    delete community_;
  }
  static Json site_with(const Json& hours) {
    auto r = world_->admin().post("/v1/sites", {{"community_id", *community_},
                                                {"name", "Lieu " + unique_suffix()},
                                                {"kind", "objetotheque"},
                                                {"location", {{"lat", 50.63}, {"lon", 3.06}}},
                                                {"address", "1 place du Marché, Lille"},
                                                {"opening_hours", hours}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  static Json every_day(const Json& ranges) {
    Json weekly = Json::object();
    for (const char* d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) weekly[d] = ranges;
    return weekly;
  }
  static std::string paris_today() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(now).count();
    const std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(
        std::chrono::sys_seconds{std::chrono::seconds{s + paris_offset_s(s)}});
    const std::chrono::year_month_day ymd{day};
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return out;
  }
  static inline MembersWorld* world_ = nullptr;
  static inline std::string* community_ = nullptr;
};

TEST_F(SiteHours, structured_hours_come_back_with_open_now) {
  const Json always = site_with({{"weekly", every_day(ranges({range("00:00", "24:00")}))}});
  EXPECT_EQ(always["open_now"], true);
  EXPECT_EQ(always["opening_hours"]["weekly"]["sun"], ranges({range("00:00", "24:00")}));
  const Json never = site_with({{"weekly", Json::object()}});
  EXPECT_EQ(never["open_now"], false);
  const Json closed_today =
      site_with({{"weekly", every_day(ranges({range("00:00", "24:00")}))},
                 {"exceptions", {{{"date", paris_today()}, {"closed", true}}}}});
  EXPECT_EQ(closed_today["open_now"], false);
  const Json text = site_with("Du mardi au samedi, de 10 h à 18 h");
  EXPECT_EQ(text["opening_hours"], "Du mardi au samedi, de 10 h à 18 h");
  EXPECT_TRUE(text["open_now"].is_null());
  auto listed = world_->admin().get("/v1/sites/" + always["id"].get<std::string>());
  EXPECT_EQ(listed.json()["open_now"], true);
}

TEST_F(SiteHours, invalid_hours_are_refused) {
  auto r = world_->admin().wrong().post(
      "/v1/sites", {{"community_id", *community_},
                    {"name", "Lieu mal réglé"},
                    {"kind", "objetotheque"},
                    {"location", {{"lat", 50.63}, {"lon", 3.06}}},
                    {"address", "1 place du Marché, Lille"},
                    {"opening_hours", {{"weekly", {{"mon", ranges({range("25:00", "26:00")})}}}}}});
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(SiteHours, staff_edit_the_hours_of_their_own_site_only) {
  const std::string mine = site_with(nullptr)["id"];
  const std::string other = site_with(nullptr)["id"];
  const MemberInfo staff = world_->register_member(*community_, "Nadia", mine);
  world_->make_staff(mine, staff.id);
  auto login = http_request(world_->members->url(), "POST", "/v1/auth/login",
                            Json{{"email", staff.email}, {"password", "mot-de-passe-1"}}.dump());
  const Client as_staff(world_->members->url(), login.json().value("token", staff.token));
  const Json hours = {{"weekly", every_day(ranges({range("09:00", "12:00")}))},
                      {"exceptions", {{{"date", "2026-12-25"}, {"closed", true}}}}};
  auto ok = as_staff.patch("/v1/sites/" + mine, {{"opening_hours", hours}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["opening_hours"], hours);
  EXPECT_TRUE(ok.json()["open_now"].is_boolean());
  auto refused = as_staff.wrong().patch("/v1/sites/" + other, {{"opening_hours", hours}});
  EXPECT_EQ(refused.status, 403) << refused.body;
}

}  // namespace
}  // namespace maillon::testing
