// What the request-body fuzz targets share: the promise every body parser keeps on any bytes —
// a value that keeps the parser's own promises (checked by the target's check function), or an
// ApiError with status 400 naming at least one field; never another exception. A broken promise
// aborts, which libFuzzer records with the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "services/common/errors.hpp"

namespace maillon::fuzzing {

inline void expect(bool ok, const char* parser, const char* why) {
  if (ok) return;
  std::fprintf(stderr, "%s: %s\n", parser, why);
  std::abort();
}

inline bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Runs `check` (which parses `body` and checks the value) and holds the parser to its promise.
template <class Check>
void run(const char* parser, Check check, std::string_view body) {
  try {
    check(body);
  } catch (const ApiError& e) {
    expect(e.status() == 400, parser, "threw an ApiError that is not a 400");
    expect(!e.errors().empty(), parser, "a 400 without any field error");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s threw %s\n", parser, e.what());
    std::abort();
  }
}

}  // namespace maillon::fuzzing
