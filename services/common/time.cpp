// RFC 3339 parsing and formatting without locale or time-zone state.
#include "services/common/time.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace maillon {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view text, std::size_t from, std::size_t count, int& out) {
  if (from + count > text.size()) return false;
  out = 0;
  for (std::size_t i = from; i < from + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// Seconds east of UTC of "Z", "+hh:mm" or "-hh:mm" at `text`; nullopt when malformed.
std::optional<int64_t> offset_s(std::string_view text) {
  if (text == "Z" || text == "z") return 0;
  int hours = 0, minutes = 0;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':' ||
      !digits(text, 1, 2, hours) || !digits(text, 4, 2, minutes) || hours > 23 || minutes > 59) {
    return std::nullopt;
  }
  int64_t s = hours * 3600 + minutes * 60;
  return text[0] == '-' ? -s : s;
}

}  // namespace

std::optional<int64_t> parse_rfc3339_s(std::string_view t) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (t.size() < 20 || t.size() > 40 || !digits(t, 0, 4, year) || t[4] != '-' ||
      !digits(t, 5, 2, month) || t[7] != '-' || !digits(t, 8, 2, day) ||
      (t[10] != 'T' && t[10] != 't') || !digits(t, 11, 2, hour) || t[13] != ':' ||
      !digits(t, 14, 2, minute) || t[16] != ':' || !digits(t, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t zone = 19;
  if (t[zone] == '.') {
    ++zone;
    while (zone < t.size() && t[zone] >= '0' && t[zone] <= '9') ++zone;
    if (zone == 20) return std::nullopt;
  }
  std::optional<int64_t> offset = offset_s(t.substr(zone));
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (!offset || year < 1970 || month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap ? 1 : 0) || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - *offset;
}

std::string format_rfc3339_us(int64_t unix_us, int fraction_digits) {
  const int64_t s = unix_us / 1'000'000 - (unix_us % 1'000'000 < 0 ? 1 : 0);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, "%06lld",
                static_cast<long long>(unix_us - s * 1'000'000));
  std::string out = format_rfc3339(s);
  out.pop_back();  // the "Z", put back after the fraction
  out += '.';
  out.append(fraction, static_cast<std::size_t>(std::clamp(fraction_digits, 1, 6)));
  out += 'Z';
  return out;
}

std::string format_rfc3339(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return out;
}

}  // namespace maillon
