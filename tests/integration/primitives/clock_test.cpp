// The one Clock: the system time, or the system time moved by a test's offset file.
#include "services/common/clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>

#include "test_clock.hpp"

namespace maillon {
namespace {

constexpr int64_t kSlackUs = 5'000'000;  // between two readings of the system time in a test

TEST(ClockTest, DefaultReadsTheSystemTime) {
  Clock clock;
  EXPECT_NEAR(static_cast<double>(clock.now_us()), static_cast<double>(system_now_us()), kSlackUs);
  EXPECT_EQ(Clock::from_offset_file("").now_s(), clock.now_s());
}

TEST(ClockTest, AManualSourceIsReadInEveryUnit) {
  auto now = std::make_shared<std::atomic<int64_t>>(1'700'000'000'123'456);
  Clock clock([now] { return now->load(); });
  EXPECT_EQ(clock.now_us(), 1'700'000'000'123'456);
  EXPECT_EQ(clock.now_ms(), 1'700'000'000'123);
  EXPECT_EQ(clock.now_s(), 1'700'000'000);
  *now = -1;  // before 1970: seconds round down, not towards zero
  EXPECT_EQ(clock.now_s(), -1);
  EXPECT_EQ(clock.now_ms(), -1);
}

TEST(ClockTest, TheOffsetFileMovesTimeAndIsReadAgainAfterEachWrite) {
  testing::TestClock file;
  Clock clock = Clock::with_offset_file(file.path());
  EXPECT_NEAR(static_cast<double>(clock.now_us()), static_cast<double>(system_now_us()), kSlackUs);
  file.advance_s(3600);
  EXPECT_NEAR(static_cast<double>(clock.now_us() - system_now_us()), 3600e6, kSlackUs);
  file.advance_s(-7200.5);
  EXPECT_NEAR(static_cast<double>(clock.now_us() - system_now_us()), -3600.5e6, kSlackUs);
  // Two writes within one tick of the file system's time stamps are both seen.
  for (int i = 1; i <= 20; ++i) {
    file.set_offset_s(i * 86400);
    EXPECT_NEAR(static_cast<double>(clock.now_s() - system_now_us() / 1'000'000), i * 86400, 5);
  }
}

TEST(ClockTest, AHalfWrittenFileKeepsTheLastOffsetAndAMissingOneIsNone) {
  testing::TestClock file;
  Clock clock = Clock::with_offset_file(file.path());
  file.set_offset_s(1000);
  EXPECT_NEAR(static_cast<double>(clock.now_s() - system_now_us() / 1'000'000), 1000, 5);
  std::ofstream(file.path()).flush();  // truncated, not yet written: what a plain ofstream shows
  EXPECT_NEAR(static_cast<double>(clock.now_s() - system_now_us() / 1'000'000), 1000, 5);
  std::ofstream(file.path()) << "soon";
  EXPECT_NEAR(static_cast<double>(clock.now_s() - system_now_us() / 1'000'000), 1000, 5);
  std::ofstream(file.path()) << "1e12";  // beyond a century: ignored as malformed
  EXPECT_NEAR(static_cast<double>(clock.now_s() - system_now_us() / 1'000'000), 1000, 5);
  std::remove(file.path().c_str());
  EXPECT_NEAR(static_cast<double>(clock.now_us()), static_cast<double>(system_now_us()), kSlackUs);
}

}  // namespace
}  // namespace maillon
