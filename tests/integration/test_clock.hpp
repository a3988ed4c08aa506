// The clock file a test hands to the services it starts (MAILLON_CLOCK_OFFSET_FILE): the services'
// time is the system time plus the seconds it holds, so a test moves time instead of sleeping.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "harness.hpp"

namespace maillon::testing {

class TestClock {
 public:
  TestClock() : path_("/tmp/maillon-clock-" + unique_suffix()) { set_offset_s(0); }
  ~TestClock() { std::remove(path_.c_str()); }
  TestClock(const TestClock&) = delete;
  TestClock& operator=(const TestClock&) = delete;

  const std::string& path() const { return path_; }
  // The environment entry that gives a service this clock.
  std::pair<std::string, std::string> env() const { return {"MAILLON_CLOCK_OFFSET_FILE", path_}; }
  // Written whole then renamed: a service never reads a half-written offset.
  void set_offset_s(double offset_s) {
    offset_s_ = offset_s;
    const std::string next = path_ + ".next";
    std::ofstream(next) << std::fixed << offset_s;
    std::rename(next.c_str(), path_.c_str());
  }
  void advance_s(double seconds) { set_offset_s(offset_s_ + seconds); }
  double offset_s() const { return offset_s_; }

 private:
  std::string path_;
  double offset_s_ = 0;
};

// How many times the service at `base_url` has run its periodic job `job` (committed runs, from
// its /metrics): a test that needs "the job went round again" waits for this, not for time.
inline int64_t job_runs(const std::string& base_url, const std::string& job) {
  return static_cast<int64_t>(
      metric_value(base_url, "maillon_job_runs_total{job=\"" + job + "\"}"));
}

// Whether the service at `base_url` commits `rounds` more runs of its job `job` within
// `timeout_ms`: how a test knows the job went round again (on a moved clock, say), not a time.
inline bool job_goes_round(const std::string& base_url, const std::string& job,
                           int timeout_ms = 5000, int rounds = 3) {
  const int64_t before = job_runs(base_url, job);
  return eventually([&] { return job_runs(base_url, job) >= before + rounds; }, timeout_ms);
}

}  // namespace maillon::testing
