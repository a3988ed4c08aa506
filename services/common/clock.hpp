// The one clock every service reads. Domain code never reads time: it takes "now" as an argument
// from the service's Clock, so that tests move time instead of sleeping.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace maillon {

class Clock {
 public:
  // The system time.
  Clock();
  // Any source of Unix microseconds (unit tests hold a time they move by hand).
  explicit Clock(std::function<int64_t()> now_us);
  // The system time plus the offset held in the file at `path`: a decimal number of seconds,
  // possibly negative or fractional ("3600", "-1.5"). Tests only (MAILLON_CLOCK_OFFSET_FILE): a
  // test rewrites the file while the service runs, and the next reading sees the new time. A
  // missing file is an offset of 0; an unreadable or half-written one keeps the last offset read.
  static Clock with_offset_file(std::string path);
  // with_offset_file(path) when `path` is not empty, else the system time.
  static Clock from_offset_file(const std::string& path);

  int64_t now_us() const;
  int64_t now_ms() const { return floor_div(now_us(), 1000); }
  int64_t now_s() const { return floor_div(now_us(), 1'000'000); }

 private:
  static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }
  std::shared_ptr<const std::function<int64_t()>> source_;
};

// Unix microseconds of the system clock (what Clock() reads).
int64_t system_now_us();

// A test never moves the clock further than this (a century either way); beyond, the file is
// ignored as malformed.
inline constexpr int64_t kClockOffsetSMax = 100LL * 366 * 86400;

}  // namespace maillon
