// HTTP for every service: routes bound in one place, handlers run on a worker pool (never on
// Pistache's reactor threads), body limit, per-client rate limit, request ids, problem+json,
// and responses held open (Server-Sent Events) that any thread writes to after the handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/auth_headers.hpp"
#include "services/common/config.hpp"

namespace maillon {

class Metrics;

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::string request_id;
  // The client's address: the peer, or what a trusted proxy forwarded (client_address()).
  std::string client;
  std::map<std::string, std::string> params;   // from the route pattern: /v1/offers/{id}
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower-cased

  const std::string& param(const std::string& name) const;
  std::optional<std::string> query_value(const std::string& name) const;
  std::optional<std::string> header(const std::string& lower_name) const;
};

// The writing end of a response held open (chunked transfer encoding). Safe from any thread:
// writes are queued to the connection's reactor, never written from the caller's thread. It
// holds no worker: whoever keeps it (one dispatcher thread for many streams) writes when it has
// something to say.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues one chunk; false once the client has gone (or the stream was closed).
  virtual bool write(std::string_view text) = 0;
  // Ends the body (last chunk); the connection stays usable for the client's next request.
  virtual void close() = 0;
  // False once the client has gone away or close() was called.
  virtual bool open() const = 0;
};

using StreamStart = std::function<void(std::shared_ptr<StreamSink>)>;

// A held-open response must be closed by its keeper within this: the runtime drops connections
// whose last request is older than its keep-alive timeout (5 min), streams included.
inline constexpr std::chrono::seconds kStreamLifetimeMax{240};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for a held-open response: the runtime sends the head, then hands the sink over here
  // (on the worker thread, once) instead of sending `body`.
  StreamStart stream_start;

  static Response json_text(int status, std::string body);
  static Response no_content();
  static Response text(int status, std::string body, std::string content_type);
  static Response stream(int status, std::string content_type, StreamStart start);
};

using Handler = std::function<Response(const Request&)>;

// Which threads run a route. Password hashing (Argon2id: 64 MiB and tens of milliseconds of a
// core each) has its own few threads and queue, so a flood of logins never holds the workers
// that serve every other request, and never holds more memory than those threads use.
enum class Lane { standard, password };

struct HttpOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port
  int reactor_threads = 2;
  int worker_threads = 8;
  std::size_t body_limit_bytes = 64 * 1024;
  std::size_t worker_queue_limit = 4096;  // beyond it: 503, never an unbounded queue
  RateLimit rate_limit;                   // per member (by session), or per address when anonymous
  TrustedProxies trusted_proxies = *TrustedProxies::parse(TrustedProxies::kDefault);
  // Beyond the queue limit: 429 with Retry-After. A login or registration that waited the wait
  // limit for a hashing thread answers 429 at once instead of hashing: under a flood, nobody
  // waits past it plus one hash.
  PasswordLane password_lane;
};

class HttpServer {
 public:
  HttpServer(HttpOptions options, Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Patterns are literal segments and {name} placeholders: "/v1/offers/{id}/dismiss".
  void route(const std::string& method, const std::string& pattern, Handler handler,
             Lane lane = Lane::standard);
  void start();
  uint16_t port() const;
  // Stops accepting, lets in-flight handlers finish, ends the streams still open (their clients
  // reconnect elsewhere), then stops the reactor.
  void shutdown();
  std::size_t open_streams() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Binds routes to the member functions of one API object, so that its routes() lists them in one
// place: `bind("GET", "/v1/x/{id}", &Api::get)`. `self` points to the object: a shared_ptr when
// the routes must keep it alive, `this` when it outlives the server. Lanes as HttpServer::route.
template <class Self>
class RouteBinder {
 public:
  using Api = typename std::pointer_traits<Self>::element_type;

  RouteBinder(HttpServer& http, Self self) : http_(http), self_(std::move(self)) {}

  void operator()(const std::string& method, const std::string& pattern,
                  Response (Api::*handler)(const Request&), Lane lane = Lane::standard) const {
    http_.route(
        method, pattern,
        [self = self_, handler](const Request& request) { return ((*self).*handler)(request); },
        lane);
  }

 private:
  HttpServer& http_;
  Self self_;
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

// The general rate limit's key: the session (a keyed hash of its bearer token or cookie, read
// without any lookup) when the call carries one, else the client's address (IPv6 by its /64).
std::string rate_limit_key(const Request& request);

int64_t monotonic_us();
std::string percent_decode(std::string_view in);

}  // namespace maillon
