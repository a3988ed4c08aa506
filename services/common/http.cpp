// Pistache glue. Reactor threads only parse and enqueue; a bounded worker pool runs handlers
// (which may block on PostgreSQL) and writes the answer back through the ResponseWriter. A
// held-open response is written by whoever keeps its sink, through the peer's write queue.
#include "services/common/http.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <sstream>
#include <thread>

#include "exchange/listing.hpp"
#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/log.hpp"
#include "services/common/metrics.hpp"
#include "services/common/trace.hpp"

namespace maillon {

using namespace Pistache;

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() + 0 &&
               std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

const std::string& Request::param(const std::string& name) const {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

std::optional<std::string> Request::query_value(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

Response Response::json_text(int status, std::string body) {
  return Response{status, std::move(body), "application/json", {}};
}
Response Response::no_content() {
  return Response{204, "", "", {}};
}
Response Response::text(int status, std::string body, std::string content_type) {
  return Response{status, std::move(body), std::move(content_type), {}};
}
Response Response::stream(int status, std::string content_type, StreamStart start) {
  Response r{status, "", std::move(content_type), {}};
  r.stream_start = std::move(start);
  return r;
}

RateLimiter::RateLimiter(double per_second, double burst, std::size_t max_keys)
    : per_second_(per_second), burst_(burst), max_keys_(max_keys) {}

bool RateLimiter::allow(const std::string& key, int64_t now_us) {
  std::lock_guard lock(mutex_);
  if (buckets_.size() >= max_keys_ && !buckets_.count(key)) {
    // Forget idle clients first; a full table of busy ones refuses newcomers rather than grow.
    std::erase_if(buckets_,
                  [&](const auto& kv) { return now_us - kv.second.last_us > 60'000'000; });
    if (buckets_.size() >= max_keys_) return false;
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now_us});
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + (now_us - b.last_us) * per_second_ / 1e6);
  b.last_us = now_us;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

std::string rate_limit_key(const Request& request) {
  std::optional<std::string> token;
  if (auto header = request.header("authorization")) {
    token = bearer_token(*header);
  } else if (auto cookies = request.header("cookie")) {
    token = cookie_value(*cookies, kSessionCookie);
  }
  if (!token || token->empty()) return "address:" + address_bucket(request.client);
  // SipHash under a key of this process: cheap, and no one can aim two tokens at one bucket.
  static const auto key = [] {
    std::array<unsigned char, crypto_shorthash_KEYBYTES> k{};
    randombytes_buf(k.data(), k.size());
    return k;
  }();
  unsigned char digest[crypto_shorthash_BYTES];
  crypto_shorthash(digest, reinterpret_cast<const unsigned char*>(token->data()), token->size(),
                   key.data());
  std::string out = "session:";
  for (unsigned char c : digest) {
    out += "0123456789abcdef"[c >> 4];
    out += "0123456789abcdef"[c & 15];
  }
  return out;
}

namespace {

struct Route {
  std::string method;
  std::vector<std::string> segments;
  std::string pattern;
  Handler handler;
  Lane lane = Lane::standard;
};

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool match_route(const Route& r, const std::vector<std::string>& segs,
                 std::map<std::string, std::string>& params) {
  if (r.segments.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const auto& s = r.segments[i];
    if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
      params[s.substr(1, s.size() - 2)] = percent_decode(segs[i]);
    } else if (s != segs[i]) {
      return false;
    }
  }
  return true;
}

std::string method_name(Http::Method m) {
  switch (m) {
    case Http::Method::Get:
      return "GET";
    case Http::Method::Post:
      return "POST";
    case Http::Method::Put:
      return "PUT";
    case Http::Method::Patch:
      return "PATCH";
    case Http::Method::Delete:
      return "DELETE";
    case Http::Method::Head:
      return "HEAD";
    case Http::Method::Options:
      return "OPTIONS";
    default:
      return "OTHER";
  }
}

bool valid_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

namespace {

// Pistache 0.0.5 closes a connection whose last request is older than this (an SSE stream too:
// it sends no request after its first). Explicit so that stream lifetimes can stay below it.
constexpr auto kKeepaliveTimeout = std::chrono::seconds(300);
static_assert(kStreamLifetimeMax < kKeepaliveTimeout);

// Chunks go through Peer::send, which only queues them for the reactor (a thread-safe queue
// the reactor drains): ResponseStream::flush would touch the transport's peer table from this
// thread. Only a weak reference to the peer is kept: once Pistache drops a gone client, the
// sink says so, and a recycled file descriptor is never written to.
class PeerStreamSink final : public StreamSink {
 public:
  explicit PeerStreamSink(std::weak_ptr<Tcp::Peer> peer) : peer_(std::move(peer)) {}

  bool write(std::string_view text) override {
    if (text.empty()) return open();
    std::ostringstream chunk;
    chunk << std::hex << text.size() << "\r\n" << text << "\r\n";
    return send_raw(chunk.str(), false);
  }
  void close() override { send_raw("0\r\n\r\n", true); }
  bool open() const override {
    std::lock_guard lock(mutex_);
    return !closed_ && !peer_.expired();
  }
  // The head of the response, before any chunk.
  bool send_head(const std::string& head) { return send_raw(head, false); }

 private:
  bool send_raw(std::string bytes, bool last) {
    std::lock_guard lock(mutex_);  // one writer at a time keeps the chunks in order
    if (closed_) return false;
    closed_ = last;
    auto peer = peer_.lock();
    if (!peer) {
      closed_ = true;
      return false;
    }
    const std::size_t size = bytes.size();
    peer->send(RawBuffer(std::move(bytes), size));
    return true;
  }

  std::weak_ptr<Tcp::Peer> peer_;
  mutable std::mutex mutex_;
  bool closed_ = false;
};

std::string stream_head(const Response& res, const std::string& request_id) {
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " +
                     Http::codeString(static_cast<Http::Code>(res.status)) + "\r\n";
  head += "X-Request-Id: " + request_id + "\r\n";
  if (!res.content_type.empty()) head += "Content-Type: " + res.content_type + "\r\n";
  for (const auto& [k, v] : res.headers) head.append(k).append(": ").append(v).append("\r\n");
  head += "Transfer-Encoding: chunked\r\n\r\n";
  return head;
}

}  // namespace

// A bounded queue and the threads that drain it.
class WorkPool {
 public:
  explicit WorkPool(std::size_t queue_limit) : queue_limit_(queue_limit) {}

  void start(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
  }
  // False when the queue is full or the pool stops: the caller answers at once instead.
  bool enqueue(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(task));
    ++in_flight_;
    queue_cv_.notify_one();
    return true;
  }
  // Lets what was queued finish (up to `wait`), then ends the threads.
  void stop(std::chrono::milliseconds wait) {
    {
      std::unique_lock lock(mutex_);
      idle_cv_.wait_for(lock, wait, [&] { return in_flight_ == 0; });
      stopping_ = true;
    }
    queue_cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
      std::lock_guard lock(mutex_);
      --in_flight_;
      if (in_flight_ == 0) idle_cv_.notify_all();
    }
  }

  std::size_t queue_limit_;
  std::mutex mutex_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
  std::size_t in_flight_ = 0;
};

// Callers with a session share their address's ceiling, this many times one client's rate: a
// tiers-lieu's members behind one public address are not one client, and tokens made up to
// dodge the limit still meet a bound.
constexpr int kSharedAddressFactor = 20;

namespace {
Response problem_response(const ApiError& e, const std::string& request_id);

std::optional<std::string_view> header_view(const Request& req, const std::string& lower_name) {
  const auto found = req.headers.find(lower_name);
  if (found == req.headers.end()) return std::nullopt;
  return std::string_view(found->second);
}
}  // namespace

struct HttpServer::Impl {
  HttpOptions options;
  Metrics& metrics;
  std::vector<Route> routes;
  RateLimiter limiter;          // per rate_limit_key()
  RateLimiter address_ceiling;  // per address, for calls that carry a session
  std::shared_ptr<Http::Endpoint> endpoint;
  WorkPool workers;
  WorkPool password_workers;
  std::atomic<bool> accepting{true};
  mutable std::mutex streams_mutex;
  std::vector<std::weak_ptr<StreamSink>> streams;  // to end them at shutdown

  Impl(HttpOptions o, Metrics& m)
      : options(std::move(o)),
        metrics(m),
        limiter(options.rate_limit.per_second, options.rate_limit.burst),
        address_ceiling(double(options.rate_limit.per_second) * kSharedAddressFactor,
                        double(options.rate_limit.burst) * kSharedAddressFactor),
        workers(options.worker_queue_limit),
        password_workers(options.password_lane.queue_limit) {}

  bool allowed(const Request& req, int64_t now_us);
  const Route* find_route(Request& req, bool& path_known) const;
  Response dispatch(Request& req, const Route* route, bool path_known, std::string& label);
  void handle(const Http::Request& raw, Http::ResponseWriter writer);
  void start_stream(Http::ResponseWriter& writer, const Response& res,
                    const std::string& request_id);
  std::size_t close_streams();
};

bool HttpServer::Impl::allowed(const Request& req, int64_t now_us) {
  const std::string key = rate_limit_key(req);
  if (!limiter.allow(key, now_us)) return false;
  return key.rfind("address:", 0) == 0 || address_ceiling.allow(address_bucket(req.client), now_us);
}

// Runs on the reactor thread (cheap: segment comparisons), so that the route picks its lane.
const Route* HttpServer::Impl::find_route(Request& req, bool& path_known) const {
  auto segs = split_path(req.path);
  path_known = false;
  for (const auto& r : routes) {
    std::map<std::string, std::string> params;
    if (!match_route(r, segs, params)) continue;
    path_known = true;
    if (r.method != req.method) continue;
    req.params = std::move(params);
    return &r;
  }
  return nullptr;
}

namespace {

// What a client put in the address (path parameters, query names and values, once decoded) is
// text: bytes that are not UTF-8, or a NUL, are refused here for every service, before any of it
// reaches PostgreSQL (which would refuse them as an error of ours, a 500). An id that is not text
// names nothing (404); a query value that is not text is invalid input (400).
void require_text_address(const Request& req) {
  const auto is_text = [](const std::string& s) {
    return s.find('\0') == std::string::npos && utf8_code_points(s).has_value();
  };
  const auto refuse = [](const std::string& where) {
    throw invalid_input("L'adresse contient des octets qui ne forment pas du texte (UTF-8).",
                        {{where, "doit être un texte UTF-8 valide"}});
  };
  for (const auto& [name, value] : req.params) {
    if (!is_text(value)) throw not_found("Aucune ressource à cette adresse.");
  }
  for (const auto& [name, value] : req.query) {
    if (!is_text(name) || !is_text(value)) refuse(is_text(name) ? name : "query");
  }
}

}  // namespace

Response HttpServer::Impl::dispatch(Request& req, const Route* route, bool path_known,
                                    std::string& route_label) {
  if (route) {
    route_label = route->pattern;
    require_text_address(req);
    if (is_unsafe_method(req.method) &&
        is_cross_site_request(header_view(req, "sec-fetch-site"), header_view(req, "origin"),
                              header_view(req, "host"))) {
      throw ApiError(403, "cross-site-request", "Requête d'un autre site",
                     "Une page d'un autre site ne peut pas agir sur Maillon à votre place.");
    }
    return route->handler(req);
  }
  if (path_known) {
    // RFC 9110: a 405 names the methods the address does take.
    std::string methods;
    const auto segs = split_path(req.path);
    for (const auto& r : routes) {
      std::map<std::string, std::string> params;
      if (!match_route(r, segs, params) || methods.find(r.method) != std::string::npos) continue;
      methods += (methods.empty() ? "" : ", ") + r.method;
    }
    Response refused = problem_response(ApiError(405, "method-not-allowed", "Méthode non autorisée",
                                                 "Cette méthode n'existe pas pour cette adresse."),
                                        req.request_id);
    refused.headers.emplace_back("Allow", methods);
    return refused;
  }
  throw not_found("Aucune ressource à cette adresse.");
}

namespace {

// Pistache writes only typed headers in responses; this one carries any name and value.
class NamedHeader : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override {
    return std::hash<std::string>{}(name_);
  }
#endif

 private:
  std::string name_;
  std::string value_;
};

// A Set-Cookie value as the services write it ("name=value; Path=/; Max-Age=N; Secure; ...")
// into Pistache's jar: its header table keeps one value per name, its jar one line per cookie.
Http::Cookie to_cookie(std::string_view text) {
  auto next = [&] {
    auto end = text.find(';');
    auto part = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    return part;
  };
  auto first = next();
  auto eq = first.find('=');
  Http::Cookie cookie(std::string(first.substr(0, eq)),
                      eq == std::string_view::npos ? "" : std::string(first.substr(eq + 1)));
  while (!text.empty()) {
    auto attribute = next();
    auto at = attribute.find('=');
    auto name = std::string(attribute.substr(0, at));
    auto value = at == std::string_view::npos ? "" : std::string(attribute.substr(at + 1));
    if (name == "Path") {
      cookie.path = value;
    } else if (name == "Max-Age") {
      cookie.maxAge = std::stoi(value);
    } else if (name == "Secure") {
      cookie.secure = true;
    } else if (name == "HttpOnly") {
      cookie.httpOnly = true;
    } else if (!name.empty()) {
      cookie.ext[name] = value;
    }
  }
  return cookie;
}

void send(Http::ResponseWriter& writer, const Response& res, const std::string& request_id) {
  auto add = [&](const std::string& k, const std::string& v) {
    writer.headers().add(std::make_shared<NamedHeader>(k, v));
  };
  add("X-Request-Id", request_id);
  if (!res.content_type.empty()) add("Content-Type", res.content_type);
  for (const auto& [k, v] : res.headers) {
    if (k == "Set-Cookie") {
      writer.cookies().add(to_cookie(v));
    } else {
      add(k, v);
    }
  }
  writer.send(static_cast<Http::Code>(res.status), res.body);
}

Response problem_response(const ApiError& e, const std::string& request_id) {
  Response r{e.status(), problem_json(e, request_id), "application/problem+json", {}};
  if (e.status() == 429)
    r.headers.emplace_back("Retry-After", std::to_string(std::max(1, e.retry_after_seconds())));
  return r;
}

// Pistache keeps the Cookie header only as a parsed jar: it is written back as one header, the
// way a browser sends it, for the one parser that reads it (cookie_value).
std::string cookie_header(const Http::Request& raw) {
  std::string out;
  for (const auto& c : raw.cookies()) {
    if (!out.empty()) out += "; ";
    out += c.name + "=" + c.value;
  }
  return out;
}

Request to_request(const Http::Request& raw, const TrustedProxies& trusted) {
  Request req;
  req.method = method_name(raw.method());
  req.path = raw.resource();
  req.body = raw.body();
  for (const auto& h : raw.headers().rawList()) {
    std::string name = h.first;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = h.second.value();
  }
  for (auto it = raw.query().parameters_begin(); it != raw.query().parameters_end(); ++it) {
    req.query[percent_decode(it->first)] = percent_decode(it->second);
  }
  if (auto cookies = cookie_header(raw); !cookies.empty()) req.headers["cookie"] = cookies;
  req.client = client_address(raw.address().host(), header_view(req, "x-forwarded-for"),
                              header_view(req, "x-real-ip"), trusted);
  auto rid = req.headers.find("x-request-id");
  req.request_id =
      (rid != req.headers.end() && valid_request_id(rid->second)) ? rid->second : new_uuid();
  return req;
}

}  // namespace

namespace {

bool is_probe(const std::string& path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

// The password lane is full, or a request waited past its limit for it: the client retries.
ApiError password_lane_full() {
  return too_many_requests(1, "Trop de connexions en cours : réessayez dans un instant.");
}

// The request's server span, a child of the caller's traceparent when it sent a valid one.
std::shared_ptr<trace::Span> server_span(const Request& req) {
  auto parent = req.headers.find("traceparent");
  auto span = std::make_shared<trace::Span>(
      req.method, trace::Kind::server,
      parent == req.headers.end() ? trace::Context{} : trace::Context::parse(parent->second));
  span->attribute("http.request.method", req.method);
  span->attribute("maillon.request_id", req.request_id);
  return span;
}

void end_server_span(trace::Span& span, const Request& req, const Response& res,
                     const std::string& route) {
  span.rename(route == "unmatched" ? req.method : req.method + " " + route);
  if (route != "unmatched") span.attribute("http.route", route);
  span.attribute("http.response.status_code", static_cast<int64_t>(res.status));
  if (res.status >= 500) span.error("HTTP " + std::to_string(res.status));
  span.end();
}

}  // namespace

void HttpServer::Impl::handle(const Http::Request& raw, Http::ResponseWriter writer) {
  auto req = std::make_shared<Request>(to_request(raw, options.trusted_proxies));
  auto out = std::make_shared<Http::ResponseWriter>(std::move(writer));
  const int64_t start_us = monotonic_us();
  const bool probe = is_probe(req->path);
  // Null when tracing is off (or for the probes): nothing more is made per request.
  std::shared_ptr<trace::Span> span;
  if (trace::enabled() && !probe) span = server_span(*req);
  auto finish = [this, out, req, start_us, span, probe](const Response& res,
                                                        const std::string& route) {
    if (res.stream_start) {
      start_stream(*out, res, req->request_id);
    } else {
      send(*out, res, req->request_id);
    }
    const int64_t elapsed_us = monotonic_us() - start_us;
    std::string labels = "method=\"" + req->method + "\",route=\"" + route + "\",status=\"" +
                         std::to_string(res.status) + "\"";
    metrics.inc("maillon_http_requests_total", labels);
    metrics.observe_seconds("maillon_http_request_duration_seconds", "route=\"" + route + "\"",
                            elapsed_us / 1e6);
    if (span) end_server_span(*span, *req, res, route);
    // One line per answered request (not the probes), with its id: where a request's trail in
    // the logs begins.
    if (!probe) {
      log::info("request", {{"request_id", req->request_id},
                            {"method", req->method},
                            {"route", route},
                            {"status", std::to_string(res.status)},
                            {"duration_ms", std::to_string(elapsed_us / 1000)}});
    }
  };
  if (req->body.size() > options.body_limit_bytes) {
    return finish(problem_response(too_large(options.body_limit_bytes), req->request_id),
                  "unmatched");
  }
  if (!probe && !allowed(*req, start_us)) {
    return finish(problem_response(too_many_requests(), req->request_id), "unmatched");
  }
  if (!accepting.load() && !probe) {
    return finish(problem_response(ApiError(503, "unavailable", "Service en cours d'arrêt",
                                            "Le service s'arrête ; réessayez."),
                                   req->request_id),
                  "unmatched");
  }
  bool path_known = false;
  const Route* matched = find_route(*req, path_known);
  const Lane lane = matched ? matched->lane : Lane::standard;
  bool queued = (lane == Lane::password ? password_workers : workers).enqueue([=, this] {
    log::set_request_id(req->request_id);
    std::optional<trace::Scope> scope;  // the events the handler writes are its children
    if (span) scope.emplace(span->context());
    std::string route = "unmatched";
    Response res;
    try {
      if (lane == Lane::password &&
          monotonic_us() - start_us > int64_t{options.password_lane.wait_limit_ms} * 1000) {
        throw password_lane_full();  // its client has waited enough: free the thread for others
      }
      res = dispatch(*req, matched, path_known, route);
    } catch (const ApiError& e) {
      res = problem_response(e, req->request_id);
    } catch (const std::exception& e) {
      log::error("unhandled error", {{"error", e.what()}, {"path", req->path}});
      res = problem_response(ApiError(500, "internal", "Erreur interne",
                                      "Une erreur interne est survenue ; elle a été journalisée."),
                             req->request_id);
    }
    finish(res, route);
    log::set_request_id("");
  });
  if (!queued && lane == Lane::password) {
    // A client's answer to wait and retry, not a failure of the service.
    finish(problem_response(password_lane_full(), req->request_id), "unmatched");
  } else if (!queued) {
    finish(problem_response(
               ApiError(503, "overloaded", "Service surchargé", "Réessayez dans un instant."),
               req->request_id),
           "unmatched");
  }
}

void HttpServer::Impl::start_stream(Http::ResponseWriter& writer, const Response& res,
                                    const std::string& request_id) {
  auto peer = writer.getPeer();
  if (!peer) return;  // the client left while the handler ran
  // Idle for Pistache's sweep: without it the stream counts as a request still being read and
  // is cut after the header timeout (60 s) with a 408 written into the body.
  peer->setIdle(true);
  auto sink = std::make_shared<PeerStreamSink>(peer);
  peer.reset();
  sink->send_head(stream_head(res, request_id));
  {
    std::lock_guard lock(streams_mutex);
    std::erase_if(streams, [](const auto& s) { return s.expired(); });
    streams.push_back(sink);
  }
  try {
    res.stream_start(sink);
  } catch (const std::exception& e) {
    log::error("stream start failed", {{"error", e.what()}});
    sink->close();
  }
}

std::size_t HttpServer::Impl::close_streams() {
  std::vector<std::weak_ptr<StreamSink>> open;
  {
    std::lock_guard lock(streams_mutex);
    open.swap(streams);
  }
  std::size_t closed = 0;
  for (auto& weak : open) {
    auto sink = weak.lock();
    if (!sink || !sink->open()) continue;
    sink->close();
    ++closed;
  }
  return closed;
}

namespace {

class PistacheHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)
  explicit PistacheHandler(HttpServer::Impl* impl) : impl_(impl) {}
  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    // An HTTP/1.1 connection stays open unless a side says otherwise (RFC 9112, 9.3). Pistache
    // answers a request without a Connection header "Connection: Close", so its client (the
    // gateway's upstream pool among them) opened a new connection for every request (#22).
    if (request.version() == Http::Version::Http11 &&
        !request.headers().has<Http::Header::Connection>()) {
      response.headers().remove<Http::Header::Connection>();
      response.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
    }
    impl_->handle(request, std::move(response));
  }
  // Counted so that a client that opens a connection per request can be seen (/metrics).
  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    impl_->metrics.inc("maillon_http_connections_closed_total", "");
    Http::Handler::onDisconnection(peer);
  }

 private:
  HttpServer::Impl* impl_;
};

}  // namespace

HttpServer::HttpServer(HttpOptions options, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), metrics)) {}

HttpServer::~HttpServer() {
  shutdown();
}

void HttpServer::route(const std::string& method, const std::string& pattern, Handler handler,
                       Lane lane) {
  impl_->routes.push_back(Route{method, split_path(pattern), pattern, std::move(handler), lane});
}

void HttpServer::start() {
  auto& o = impl_->options;
  impl_->workers.start(o.worker_threads);
  impl_->password_workers.start(o.password_lane.threads);
  Address addr(o.bind_address, Port(o.port));
  impl_->endpoint = std::make_shared<Http::Endpoint>(addr);
  // Pistache refuses oversize bodies itself past this; below it we answer 413 as problem+json.
  auto opts = Http::Endpoint::options()
                  .threads(o.reactor_threads)
                  .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                  .maxRequestSize(std::max<std::size_t>(o.body_limit_bytes * 16, 1 << 20))
                  .maxResponseSize(64 << 20)
                  .keepaliveTimeout(kKeepaliveTimeout);
  impl_->endpoint->init(opts);
  impl_->endpoint->setHandler(std::make_shared<PistacheHandler>(impl_.get()));
  impl_->endpoint->serveThreaded();
}

std::size_t HttpServer::open_streams() const {
  std::lock_guard lock(impl_->streams_mutex);
  return static_cast<std::size_t>(
      std::count_if(impl_->streams.begin(), impl_->streams.end(), [](const auto& s) {
        auto sink = s.lock();
        return sink && sink->open();
      }));
}

uint16_t HttpServer::port() const {
  return impl_->endpoint ? static_cast<uint16_t>(impl_->endpoint->getPort()) : 0;
}

void HttpServer::shutdown() {
  if (!impl_ || !impl_->endpoint) return;
  impl_->accepting = false;
  impl_->password_workers.stop(std::chrono::seconds(10));
  impl_->workers.stop(std::chrono::seconds(10));
  // The last chunks are only queued: give the reactor a moment to write them out.
  if (impl_->close_streams() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  impl_->endpoint->shutdown();
  impl_->endpoint.reset();
}

}  // namespace maillon
