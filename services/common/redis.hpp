// Redis: one RAII owner per connection and per reply. A connection is not thread-safe and is
// unusable after an error, so each thread owns one and it reconnects on the next command.
#pragma once

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

// hiredis's types, declared only: a file that reads replies (their type, str, element...)
// includes <hiredis/hiredis.h> itself.
struct redisReply;
struct redisContext;

namespace maillon {

struct RedisError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ReplyDeleter {
  void operator()(redisReply* r) const;  // freeReplyObject
};
using RedisReply = std::unique_ptr<redisReply, ReplyDeleter>;

class Redis {
 public:
  explicit Redis(const std::string& url, int timeout_ms = 2000);
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;

  // Sends one command; an error *reply* is returned as such (type REDIS_REPLY_ERROR), a broken
  // connection throws RedisError (and the next call reconnects).
  RedisReply command(const std::vector<std::string>& args);
  // Pipelined: all commands written, then all replies read — one round trip for a batch.
  std::vector<RedisReply> pipeline(const std::vector<std::vector<std::string>>& commands);
  bool ping();
  // After SUBSCRIBE: the next message the server pushes, or null when none came within
  // `wait_ms`. Throws RedisError when the connection is lost (messages may then be missed).
  RedisReply next_push(int wait_ms);
  int fd() const;  // the socket, -1 when not connected (to wait on it without reading)

 private:
  std::string host_;
  int port_ = 6379;
  std::string user_;
  std::string password_;
  int db_ = 0;
  int timeout_ms_;
  redisContext* ctx_ = nullptr;
  void connect();
  void drop();
};

// A small pool for request handlers that need Redis now and then (session checks).
class RedisPool {
 public:
  RedisPool(std::string url, int size) : url_(std::move(url)), size_(size) {}
  template <class F>
  auto with(F&& f) {
    std::unique_ptr<Redis> conn = take();
    struct Back {
      RedisPool* pool;
      std::unique_ptr<Redis>& conn;
      ~Back() { pool->give(std::move(conn)); }
    } back{this, conn};
    return f(*conn);
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  int size_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Redis>> idle_;
  std::unique_ptr<Redis> take();
  void give(std::unique_ptr<Redis> conn);
};

std::string reply_string(
    const redisReply* r);  // string / status / error / integer as text, else ""
bool is_error(const redisReply* r);

}  // namespace maillon
