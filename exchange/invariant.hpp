// The one invariant check of Maillon, kept in release builds (unlike assert(), which NDEBUG
// removes): a broken invariant is a bug here or in what was loaded, and the process stops rather
// than go on with a state it was written never to see (a wrong balance, a member beyond the
// engine's tables). Nothing of the transaction under way is committed; the orchestrator restarts
// the process.
//
//   MAILLON_INVARIANT(loan_number >= 1, "a loan is numbered from 1");
//
// prints "invariant broken: a loan is numbered from 1 (loan_number >= 1) at exchange/depot.cpp:131"
// on stderr and aborts. Refusals a caller can cause are result codes, never invariants.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace maillon {

[[noreturn]] inline void invariant_broken(const char* condition, const char* what, const char* file,
                                          int line) noexcept {
  std::fprintf(stderr, "invariant broken: %s (%s) at %s:%d\n", what, condition, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace maillon

// `condition` is evaluated exactly once, in every build type.
#define MAILLON_INVARIANT(condition, what) \
  (static_cast<bool>(condition)            \
       ? static_cast<void>(0)              \
       : ::maillon::invariant_broken(#condition, what, __FILE__, __LINE__))
