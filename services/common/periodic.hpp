// A thread of its own that runs one function every interval until stopped: for the work every
// replica must do (following a change feed), unlike Service::every's jobs, which one replica
// runs at a time under an advisory lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace maillon {

class PeriodicThread {
 public:
  PeriodicThread() = default;
  ~PeriodicThread() { stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // `round` throwing is logged under `name`; the next round comes at the next interval.
  void start(std::string name, std::chrono::milliseconds interval, std::function<void()> round);
  void stop();  // waits for the round in progress

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace maillon
