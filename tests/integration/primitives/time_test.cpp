// The one RFC 3339 parser (services/common/time.hpp) that every service uses, the exchange's
// scheduled_at included (it had a regular expression of its own beside it).
#include "services/common/time.hpp"

#include <gtest/gtest.h>

namespace maillon {
namespace {

TEST(Rfc3339Test, reads_a_time_in_utc_or_with_an_offset_and_drops_fractions) {
  EXPECT_EQ(parse_rfc3339_s("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_s("2026-05-14T10:30:00Z"), 1778754600);
  EXPECT_EQ(parse_rfc3339_s("2026-05-14T12:30:00+02:00"), 1778754600);
  EXPECT_EQ(parse_rfc3339_s("2026-05-14T10:30:00.123456Z"), 1778754600);
  EXPECT_EQ(format_rfc3339(1778754600), "2026-05-14T10:30:00Z");
  EXPECT_EQ(format_rfc3339_us(1778754600'012345), "2026-05-14T10:30:00.012345Z");
  EXPECT_EQ(format_rfc3339_us(1778754600'012345, 3), "2026-05-14T10:30:00.012Z");
  EXPECT_EQ(format_rfc3339_us(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(Rfc3339Test, refuses_what_is_not_a_real_time) {
  for (const char* wrong :
       {"", "2026-05-14", "2026-05-14 10:30:00Z", "2026-05-14T10:30:00", "2026-02-30T10:00:00Z",
        "2026-13-01T10:00:00Z", "2026-05-14T24:00:00Z", "2026-05-14T10:60:00Z",
        "2026-05-14T10:30:00+24:00", "2026-05-14T10:30:00.Z", "1969-12-31T23:59:59Z"}) {
    EXPECT_FALSE(parse_rfc3339_s(wrong)) << wrong;
  }
}

}  // namespace
}  // namespace maillon
