// Attempt counters: INCR in a window that the first attempt opens (PEXPIRE), read back with
// its time left for Retry-After. Plain commands only (no script), so a Redis ACL limited to
// the service's keys and common commands is enough.
#include "services/members/attempts.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>

#include "services/common/log.hpp"
#include "services/common/redis.hpp"

namespace maillon::members {
namespace {

int seconds_rounded_up(long long milliseconds) {
  return static_cast<int>(std::max(1LL, (milliseconds + 999) / 1000));
}

long long integer(const RedisReply& r) {
  return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
}

}  // namespace

Attempts::Attempts(RedisPool& redis, std::string prefix)
    : redis_(redis), prefix_(std::move(prefix)) {}

Attempts::Verdict Attempts::reserve(const std::string& key, int limit, int window_seconds) {
  const std::string name = prefix_ + ":attempts:" + key;
  const std::string window_ms = std::to_string(window_seconds * 1000LL);
  try {
    return redis_.with([&](Redis& r) {
      auto replies = r.pipeline({{"INCR", name}, {"PTTL", name}});
      const long long count = integer(replies.at(0));
      long long left_ms = integer(replies.at(1));
      if (count < 0) throw RedisError("unexpected INCR reply");
      // The first attempt opens the window; one left without an expiry (the key expired between
      // the two commands) gets one too, or it would count for ever.
      if (left_ms < 0) {
        r.command({"PEXPIRE", name, window_ms});
        left_ms = window_seconds * 1000LL;
      }
      if (count <= limit) return Verdict{true, 0};
      return Verdict{false, seconds_rounded_up(left_ms)};
    });
  } catch (const RedisError& e) {
    log::warn("attempt counters unavailable; counting in this process", {{"error", e.what()}});
    return reserve_local(key, limit, window_seconds);
  }
}

void Attempts::release(const std::string& key) {
  const std::string name = prefix_ + ":attempts:" + key;
  try {
    redis_.with([&](Redis& r) {
      auto replies = r.pipeline({{"DECR", name}, {"PTTL", name}});
      // The window ended meanwhile: DECR made a key of its own, which must not stay.
      if (integer(replies.at(1)) < 0) r.command({"DEL", name});
    });
  } catch (const RedisError&) {
    release_local(key);
  }
}

Attempts::Verdict Attempts::reserve_local(const std::string& key, int limit, int window_seconds) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (local_.size() >= kLocalKeysMax && !local_.count(key)) {
    std::erase_if(local_, [&](const auto& kv) { return kv.second.window_end <= now; });
    if (local_.size() >= kLocalKeysMax) local_.clear();  // forgetting beats refusing everyone
  }
  Local& entry = local_[key];
  if (entry.window_end <= now) entry = {0, now + std::chrono::seconds(window_seconds)};
  if (++entry.count <= limit) return Verdict{true, 0};
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(entry.window_end - now).count();
  return Verdict{false, seconds_rounded_up(left)};
}

void Attempts::release_local(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = local_.find(key);
  if (it != local_.end() && it->second.count > 0) --it->second.count;
}

}  // namespace maillon::members
