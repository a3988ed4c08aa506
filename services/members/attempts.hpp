// Counted attempts (failed logins, anonymous sign-ups) per account or client address, in fixed
// windows. Redis holds the counts so every replica sees the same ones; when Redis does not
// answer, this process counts alone (a weaker bound, never an open door nor a locked one).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace maillon {
class RedisPool;
}

namespace maillon::members {

class Attempts {
 public:
  Attempts(RedisPool& redis, std::string prefix);

  struct Verdict {
    bool allowed = true;
    int retry_after_seconds = 0;  // when refused: until the window ends
  };
  // Counts one attempt under `key` before it is made, so that concurrent attempts cannot pass
  // the limit together; refused once the window holds more than `limit`.
  Verdict reserve(const std::string& key, int limit, int window_seconds);
  // The attempt turned out not to count (a successful login, or one refused for another key).
  void release(const std::string& key);

 private:
  struct Local {
    int count = 0;
    std::chrono::steady_clock::time_point window_end;
  };
  static constexpr std::size_t kLocalKeysMax = 100'000;

  RedisPool& redis_;
  std::string prefix_;
  std::mutex mutex_;
  std::unordered_map<std::string, Local> local_;

  Verdict reserve_local(const std::string& key, int limit, int window_seconds);
  void release_local(const std::string& key);
};

}  // namespace maillon::members
