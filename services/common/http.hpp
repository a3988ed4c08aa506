// HTTP for every service: routes bound in one place, handlers run on a worker pool (never on
// Pistache's reactor threads), body limit, per-client rate limit, request ids, problem+json.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace maillon {

class Metrics;

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::string request_id;
  std::string client;  // client address (the gateway's X-Real-IP when it came through it)
  std::map<std::string, std::string> params;   // from the route pattern: /v1/offers/{id}
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower-cased

  const std::string& param(const std::string& name) const;
  std::optional<std::string> query_value(const std::string& name) const;
  std::optional<std::string> header(const std::string& lower_name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json_text(int status, std::string body);
  static Response no_content();
  static Response text(int status, std::string body, std::string content_type);
};

using Handler = std::function<Response(const Request&)>;

struct HttpOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port
  int reactor_threads = 2;
  int worker_threads = 8;
  std::size_t body_limit_bytes = 64 * 1024;
  std::size_t worker_queue_limit = 4096;  // beyond it: 503, never an unbounded queue
  int rate_limit_per_second = 50;
  int rate_limit_burst = 200;
};

class HttpServer {
 public:
  HttpServer(HttpOptions options, Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Patterns are literal segments and {name} placeholders: "/v1/offers/{id}/dismiss".
  void route(const std::string& method, const std::string& pattern, Handler handler);
  void start();
  uint16_t port() const;
  // Stops accepting, lets in-flight handlers finish, then stops the reactor.
  void shutdown();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Token bucket per key, bounded in the number of keys it remembers.
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst, std::size_t max_keys = 100'000);
  bool allow(const std::string& key, int64_t now_us);

 private:
  struct Bucket {
    double tokens;
    int64_t last_us;
  };
  double per_second_;
  double burst_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

int64_t monotonic_us();
std::string percent_decode(std::string_view text);

}  // namespace maillon
