// The one poll of the C++ tests and benches (issue 17: a test waits on a condition, never on a
// fixed time). Wait on a real signal wherever one exists: Redis XREAD BLOCK on the stream the
// result goes to, PostgreSQL LISTEN, a condition variable, a child process's exit (a pidfd).
// What nobody signals (an HTTP answer that changes, a row another process writes) is checked
// here, and only here.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace maillon::testing {

// Checks `check` until it returns true or `timeout` passes (the last check is made at the
// deadline); returns whether it held. The pauses between checks double from 1 ms up to
// `longest_pause`: a condition that holds soon is seen soon, one that takes seconds costs few
// checks. A longer `longest_pause` spares what is checked through a rate limit.
template <class Check>
bool wait_until(Check&& check, std::chrono::steady_clock::duration timeout,
                std::chrono::steady_clock::duration longest_pause = std::chrono::milliseconds(20)) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  Clock::duration pause = std::min<Clock::duration>(std::chrono::milliseconds(1), longest_pause);
  for (;;) {
    if (check()) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_until(std::min(now + pause, deadline));
    pause = std::min<Clock::duration>(pause * 2, longest_pause);
  }
}

}  // namespace maillon::testing
