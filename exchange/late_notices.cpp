// The weekly repeat of late notices (see late_notices.hpp).
#include "exchange/late_notices.hpp"

#include "exchange/invariant.hpp"

namespace maillon {

int32_t late_notice_week(int64_t due_at_s, int64_t now_s) {
  if (now_s < due_at_s) return 0;
  return static_cast<int32_t>((now_s - due_at_s) / kLateNoticeEveryS);
}

int64_t late_notice_at_s(int64_t due_at_s, int32_t week) {
  MAILLON_INVARIANT(week >= 1, "repeats count from one");
  return due_at_s + static_cast<int64_t>(week) * kLateNoticeEveryS;
}

std::optional<LateNotice> weekly_late_notice(int64_t due_at_s, int32_t last_week_told,
                                             int64_t now_s) {
  const int32_t week = late_notice_week(due_at_s, now_s);
  if (week < 1 || week <= last_week_told) return std::nullopt;
  return LateNotice{week, late_notice_at_s(due_at_s, week + 1)};
}

}  // namespace maillon
