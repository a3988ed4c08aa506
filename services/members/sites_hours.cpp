// Opening hours (see sites_hours.hpp).
#include "services/members/sites_hours.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <string_view>

namespace maillon::members {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 7> kWeekdayKeys = {"mon", "tue", "wed", "thu",
                                                          "fri", "sat", "sun"};

// Minutes since midnight of "HH:MM" (24:00 allowed as an end), or -1.
int minutes_of_day(const Json& v) {
  if (!v.is_string()) return -1;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 5 || s[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return -1;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

// [["09:00","12:30"], ...]: each range starts before it ends, at most kRangesPerDayMax.
bool valid_ranges(const Json& ranges) {
  if (!ranges.is_array() || ranges.size() > kRangesPerDayMax) return false;
  for (const Json& r : ranges) {
    if (!r.is_array() || r.size() != 2) return false;
    const int start = minutes_of_day(r[0]);
    const int end = minutes_of_day(r[1]);
    if (start < 0 || end < 0 || start >= end || start == 24 * 60) return false;
  }
  return true;
}

bool valid_iso_date(const Json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const std::chrono::year_month_day ymd{
      std::chrono::year{std::stoi(s.substr(0, 4))},
      std::chrono::month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
      std::chrono::day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
  return ymd.ok();
}

void check_weekly(const Json& weekly, FieldErrors& errors) {
  if (!weekly.is_object()) {
    errors.push_back({"opening_hours.weekly", "doit être un objet (mon … sun)"});
    return;
  }
  for (const auto& [day, ranges] : weekly.items()) {
    bool known = false;
    for (auto d : kWeekdayKeys) known = known || d == day;
    if (!known) {
      errors.push_back({"opening_hours.weekly." + day, "jour inconnu (mon, tue … sun)"});
    } else if (!valid_ranges(ranges)) {
      errors.push_back({"opening_hours.weekly." + day,
                        "plages [\"HH:MM\", \"HH:MM\"] dont le début précède la fin"});
    }
  }
}

void check_exceptions(const Json& exceptions, FieldErrors& errors) {
  if (!exceptions.is_array() || exceptions.size() > kExceptionsMax) {
    errors.push_back({"opening_hours.exceptions", "doit être une liste (400 au plus)"});
    return;
  }
  for (std::size_t i = 0; i < exceptions.size(); ++i) {
    const Json& e = exceptions[i];
    const std::string field = "opening_hours.exceptions[" + std::to_string(i) + "]";
    const bool shaped = e.is_object() && e.contains("date") && valid_iso_date(e["date"]) &&
                        (e.contains("closed") ? e["closed"].is_boolean() : e.contains("hours"));
    bool only_known = e.is_object();
    if (e.is_object()) {
      for (const auto& [key, unused] : e.items()) {
        only_known = only_known && (key == "date" || key == "closed" || key == "hours");
      }
    }
    if (!shaped || !only_known || (e.contains("hours") && !valid_ranges(e["hours"]))) {
      errors.push_back({field, R"({"date": "AAAA-MM-JJ", "closed": true} ou {"date", "hours"})"});
    }
  }
}

bool hours_within(const Json& ranges, int minute) {
  for (const Json& r : ranges) {
    if (minute >= minutes_of_day(r[0]) && minute < minutes_of_day(r[1])) return true;
  }
  return false;
}

// Unix seconds of 01:00 UTC on the last Sunday of `month` of `year`.
int64_t last_sunday_1am_utc(int year, unsigned month) {
  using namespace std::chrono;
  const sys_days last{
      year_month_day_last{std::chrono::year{year}, month_day_last{std::chrono::month{month}}}};
  const sys_days sunday = last - (weekday{last} - Sunday);
  return duration_cast<seconds>(sunday.time_since_epoch()).count() + 3600;
}

}  // namespace

std::optional<std::string> read_opening_hours(const Json& value, FieldErrors& errors) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text.size() > kOpeningHoursTextMax) {
      errors.push_back({"opening_hours", "500 caractères au plus"});
    }
    return text;
  }
  if (!value.is_object()) {
    errors.push_back({"opening_hours", "doit être un objet {weekly, exceptions} ou un texte"});
    return std::nullopt;
  }
  for (const auto& [key, unused] : value.items()) {
    if (key != "weekly" && key != "exceptions") {
      errors.push_back({"opening_hours." + key, "champ inconnu"});
    }
  }
  check_weekly(value.value("weekly", Json::object()), errors);
  check_exceptions(value.value("exceptions", Json::array()), errors);
  Json canonical = {{"weekly", value.value("weekly", Json::object())},
                    {"exceptions", value.value("exceptions", Json::array())}};
  return canonical.dump();
}

int64_t paris_offset_s(int64_t utc_s) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_seconds{seconds{utc_s}})};
  const int year = static_cast<int>(ymd.year());
  const bool summer =
      utc_s >= last_sunday_1am_utc(year, 3) && utc_s < last_sunday_1am_utc(year, 10);
  return summer ? 7200 : 3600;
}

bool open_at(const Json& hours, int64_t utc_s) {
  using namespace std::chrono;
  const int64_t local_s = utc_s + paris_offset_s(utc_s);
  const sys_days local_day = floor<days>(sys_seconds{seconds{local_s}});
  const int minute = static_cast<int>(
      (local_s - duration_cast<seconds>(local_day.time_since_epoch()).count()) / 60);
  const year_month_day ymd{local_day};
  char date[32];
  std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  for (const Json& e : hours.value("exceptions", Json::array())) {
    if (e.value("date", "") != date) continue;
    if (e.value("closed", false)) return false;
    return hours_within(e.value("hours", Json::array()), minute);
  }
  const unsigned monday_based = (weekday{local_day}.c_encoding() + 6) % 7;
  const Json weekly = hours.value("weekly", Json::object());
  return hours_within(weekly.value(std::string(kWeekdayKeys[monday_based]), Json::array()), minute);
}

void show_opening_hours(Json& site, int64_t now_s) {
  site["open_now"] = nullptr;
  auto it = site.find("opening_hours");
  if (it == site.end() || !it->is_string()) return;
  Json parsed = Json::parse(it->get<std::string>(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("weekly")) return;
  site["open_now"] = open_at(parsed, now_s);
  *it = std::move(parsed);
}

}  // namespace maillon::members
