// When a late loan is told again, the same for loans between members (the exchange service) and
// the depot's: libraries of things repeat their overdue notice weekly, so a borrower who missed
// the first hears again, but never more than once a week.
#pragma once

#include <cstdint>
#include <optional>

namespace maillon {

inline constexpr int64_t kLateNoticeEveryS = 7 * 24 * 3600;

// The repeat due at `now_s` for a loan due at `due_at_s`: 1 from a week after the due date, 2
// from two weeks after, ...; 0 before the first week has passed. The first notice (the loan going
// late) is not a repeat: its sender tells it apart.
int32_t late_notice_week(int64_t due_at_s, int64_t now_s);
// When repeat `week` (>= 1) falls due.
int64_t late_notice_at_s(int64_t due_at_s, int32_t week);

struct LateNotice {
  int32_t week = 0;       // the repeat to send now (late_notice: N in the events)
  int64_t next_at_s = 0;  // when the following one falls due: stored, so that a job finds it
};
// The repeat to send now for a loan still out, whose repeats up to `last_week_told` (0: none)
// were sent; nullopt when none is due. After a pause of the job (weeks 2 and 3 passed unseen)
// only the current week is told: one notice, with the true count of weeks.
std::optional<LateNotice> weekly_late_notice(int64_t due_at_s, int32_t last_week_told,
                                             int64_t now_s);

}  // namespace maillon
