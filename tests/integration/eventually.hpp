// Waiting in tests without fixed sleeps: poll a condition until it holds or a deadline passes.
// The only place a test pauses; a test that waits for time to pass moves a clock instead
// (test_clock.hpp).
#pragma once

#include <chrono>
#include <thread>

namespace maillon::testing {

inline constexpr std::chrono::milliseconds kEventuallyTimeout{10'000};
inline constexpr std::chrono::milliseconds kEventuallyPause{20};

// Calls `condition` until it returns true (then true) or `timeout` passed (then false, after one
// last call). `pause` is the short wait between two calls, not a time the test depends on.
template <typename Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds timeout = kEventuallyTimeout,
                std::chrono::milliseconds pause = kEventuallyPause) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return static_cast<bool>(condition());
    std::this_thread::sleep_for(pause);
  }
  return true;
}

}  // namespace maillon::testing
