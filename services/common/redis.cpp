// hiredis wrapper: URL parsing, reconnect-on-error, pipelining.
#include "services/common/redis.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cctype>

namespace maillon {

void ReplyDeleter::operator()(redisReply* r) const {
  freeReplyObject(r);
}

namespace {

// A URL's user or password may hold reserved characters as %XX (an ACL password often does).
std::string percent_decoded(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(text[i + 1]) &&
        std::isxdigit(text[i + 2])) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

Redis::Redis(const std::string& url, int timeout_ms) : timeout_ms_(timeout_ms) {
  // redis://[[user]:password@]host[:port][/db]: with a user, an ACL user (one per service).
  std::string rest = url.substr(url.find("://") + 3);
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    const auto colon = auth.find(':');
    if (colon != std::string::npos) user_ = percent_decoded(auth.substr(0, colon));
    password_ = percent_decoded(auth.substr(colon == std::string::npos ? 0 : colon + 1));
    rest = rest.substr(at + 1);
  }
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    db_ = db.empty() ? 0 : std::stoi(db);
    rest = rest.substr(0, slash);
  }
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    port_ = std::stoi(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  host_ = rest.empty() ? "127.0.0.1" : rest;
}

Redis::~Redis() {
  drop();
}

void Redis::drop() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

void Redis::connect() {
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (!ctx_ || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "allocation failed";
    drop();
    throw RedisError("redis connect failed: " + why);
  }
  redisSetTimeout(ctx_, tv);
  auto check = [&](const std::vector<std::string>& args) {
    auto r = command(args);
    if (!r || is_error(r.get())) {
      drop();
      throw RedisError("redis setup failed");
    }
  };
  if (!password_.empty() && !user_.empty()) check({"AUTH", user_, password_});
  if (!password_.empty() && user_.empty()) check({"AUTH", password_});
  if (db_ != 0) check({"SELECT", std::to_string(db_)});
}

RedisReply Redis::command(const std::vector<std::string>& args) {
  if (!ctx_) connect();
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!raw) {
    std::string why = ctx_->errstr;
    drop();
    throw RedisError("redis command failed: " + why);
  }
  return RedisReply(raw);
}

std::vector<RedisReply> Redis::pipeline(const std::vector<std::vector<std::string>>& commands) {
  if (!ctx_) connect();
  for (const auto& args : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      drop();
      throw RedisError("redis pipeline append failed");
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw) {
      std::string why = ctx_->errstr;
      drop();
      throw RedisError("redis pipeline read failed: " + why);
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  return replies;
}

RedisReply Redis::next_push(int wait_ms) {
  if (!ctx_) throw RedisError("redis: not connected");
  auto buffered = [&]() -> RedisReply {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) {
      drop();
      throw RedisError("redis: unreadable push");
    }
    return RedisReply(static_cast<redisReply*>(raw));
  };
  if (RedisReply r = buffered()) return r;
  pollfd p{ctx_->fd, POLLIN, 0};
  int ready = ::poll(&p, 1, wait_ms);
  if (ready == 0) return nullptr;
  if (ready < 0 || redisBufferRead(ctx_) != REDIS_OK) {
    std::string why = ctx_->errstr;
    drop();
    throw RedisError("redis subscription lost: " + why);
  }
  return buffered();
}

int Redis::fd() const {
  return ctx_ ? ctx_->fd : -1;
}

bool Redis::ping() {
  try {
    auto r = command({"PING"});
    return r && !is_error(r.get());
  } catch (const RedisError&) {
    return false;
  }
}

std::unique_ptr<Redis> RedisPool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<Redis>(url_);
}

void RedisPool::give(std::unique_ptr<Redis> conn) {
  std::lock_guard lock(mutex_);
  if (static_cast<int>(idle_.size()) < size_) idle_.push_back(std::move(conn));
}

std::string reply_string(const redisReply* r) {
  if (!r) return {};
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    default:
      return {};
  }
}

bool is_error(const redisReply* r) {
  return r && r->type == REDIS_REPLY_ERROR;
}

}  // namespace maillon
