// The observability suites' world (tests/integration/observability/): the services an exchange
// needs (members, offers, exchange, ledger, notify) on real PostgreSQL and Redis, behind the real
// gateway (nginx from deploy/nginx.conf.template, written by script/lib.sh's gateway_write_conf),
// every service exporting its spans to a real OTLP/HTTP receiver: a small Python http.server on
// a free loopback port that keeps each JSON body it is posted to /v1/traces.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "listing_bodies.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {

inline constexpr int kTraceTimeoutMs = 20'000;

// A socket connected to 127.0.0.1:port (reads time out after 5 s), or -1.
inline int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool port_open(uint16_t port) {
  const int fd = connect_loopback(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// One span as a receiver got it, with its process's service.name.
struct ReceivedSpan {
  std::string service;
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  int kind = 0;
  std::map<std::string, std::string> attributes;  // string and int values, as text
  Json raw;

  std::string attribute(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? "" : it->second;
  }
};

// A real OTLP/HTTP (JSON) receiver: every POST /v1/traces with a JSON body is kept as one file;
// anything else is refused (400), so a body in another encoding never counts.
class OtlpReceiver {
 public:
  OtlpReceiver()
      : dir_(std::filesystem::temp_directory_path() / ("maillon-otlp-" + unique_suffix())),
        port_(free_port()) {
    std::filesystem::create_directories(dir_ / "bodies");
    std::ofstream(dir_ / "receiver.py") << kReceiver;
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      const std::string script = (dir_ / "receiver.py").string();
      const std::string bodies = (dir_ / "bodies").string();
      ::execl("/usr/bin/python3", "python3", script.c_str(), port.c_str(), bodies.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (!eventually([&] { return port_open(port_); }, 10'000, 50))
      throw std::runtime_error("the OTLP receiver (python3 http.server) did not start");
  }
  ~OtlpReceiver() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every span received so far, from every body.
  std::vector<ReceivedSpan> spans() const {
    std::vector<ReceivedSpan> out;
    std::set<std::filesystem::path> files;
    for (const auto& f : std::filesystem::directory_iterator(dir_ / "bodies")) {
      if (f.path().extension() == ".json") files.insert(f.path());
    }
    for (const auto& file : files) {
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      const Json body = Json::parse(text.str(), nullptr, false);
      if (body.is_discarded()) continue;
      for (const auto& resource : body.value("resourceSpans", Json::array())) {
        std::string service;
        for (const auto& a : resource["resource"].value("attributes", Json::array())) {
          if (a.value("key", "") == "service.name") service = a["value"].value("stringValue", "");
        }
        for (const auto& scope : resource.value("scopeSpans", Json::array())) {
          for (const auto& s : scope.value("spans", Json::array())) {
            out.push_back(read_span(service, s));
          }
        }
      }
    }
    return out;
  }

 private:
  static ReceivedSpan read_span(const std::string& service, const Json& s) {
    ReceivedSpan r{service,
                   s.value("traceId", ""),
                   s.value("spanId", ""),
                   s.value("parentSpanId", ""),
                   s.value("name", ""),
                   s.value("kind", 0),
                   {},
                   s};
    for (const auto& a : s.value("attributes", Json::array())) {
      const Json& v = a["value"];
      r.attributes[a.value("key", "")] = v.contains("stringValue")
                                             ? v["stringValue"].get<std::string>()
                                             : v.value("intValue", std::string());
    }
    return r;
  }

  static constexpr const char* kReceiver = R"(import http.server, json, os, sys, threading

PORT, DIR = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
count = [0]

class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = self.path == "/v1/traces" and \
            self.headers.get("Content-Type", "").startswith("application/json")
        if ok:
            try:
                json.loads(body)
            except ValueError:
                ok = False
        if ok:
            with lock:
                count[0] += 1
                n = count[0]
            tmp = os.path.join(DIR, "%06d.part" % n)
            with open(tmp, "wb") as f:
                f.write(body)
            os.rename(tmp, os.path.join(DIR, "%06d.json" % n))
        answer = b"{}" if ok else b'{"error":"not an OTLP/HTTP JSON export"}'
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
)";

  std::filesystem::path dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

// The real gateway in front of the running services: script/lib.sh writes its configuration
// from deploy/nginx.conf.template and starts nginx; stopped (and its directory removed) at the end.
class TestGateway {
 public:
  explicit TestGateway(const std::map<std::string, uint16_t>& services)
      : prefix_(std::filesystem::temp_directory_path() / ("maillon-gw-" + unique_suffix())),
        port_(free_port()) {
    std::string routes;
    for (const auto& [name, port] : services) routes += " " + name + ":" + std::to_string(port);
    run("gateway_write_conf '" + prefix_.string() + "' " + std::to_string(port_) + routes +
        " && gateway_start '" + prefix_.string() + "' " + std::to_string(port_));
  }
  ~TestGateway() {
    run("gateway_stop '" + prefix_.string() + "'");
    std::error_code ignored;
    std::filesystem::remove_all(prefix_, ignored);
  }
  TestGateway(const TestGateway&) = delete;
  TestGateway& operator=(const TestGateway&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static void run(const std::string& commands) {
    const std::string line = "bash -c 'set -euo pipefail; source \"" +
                             std::string(MAILLON_SOURCE_DIR) + "/script/lib.sh\"; " +
                             escape(commands) + "' >/dev/null";
    if (std::system(line.c_str()) != 0) throw std::runtime_error("gateway: " + commands);
  }
  // Inside single quotes: each ' becomes '\''.
  static std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out;
  }

  std::filesystem::path prefix_;
  uint16_t port_;
};

// The JSON lines of a service's log (anything else skipped).
inline std::vector<Json> log_lines(const ServiceProcess& service) {
  std::vector<Json> out;
  std::ifstream in(service.log_path());
  std::string line;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

// Whether the service logged a line with this request id and message (and event type, if given).
inline bool logged(const ServiceProcess& service, const std::string& request_id,
                   const std::string& msg, const std::string& type = "") {
  for (const Json& j : log_lines(service)) {
    if (j.value("request_id", "") == request_id && j.value("msg", "") == msg &&
        (type.empty() || j.value("type", "") == type)) {
      return true;
    }
  }
  return false;
}

// The events of a stream (full name), as their JSON envelopes.
inline std::vector<Json> stream_events(const std::string& stream) {
  Redis redis(redis_url());
  auto reply = redis.command({"XRANGE", stream, "-", "+"});
  std::vector<Json> out;
  if (!reply || reply->type != REDIS_REPLY_ARRAY) return out;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const redisReply* fields = reply->element[i]->element[1];
    for (std::size_t k = 0; k + 1 < fields->elements; k += 2) {
      if (reply_string(fields->element[k]) != "event") continue;
      Json j = Json::parse(reply_string(fields->element[k + 1]), nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
  }
  return out;
}

// The event of this type on the stream that carries this request id (null when none yet).
inline Json event_with(const std::string& stream, const std::string& type,
                       const std::string& request_id) {
  for (Json& e : stream_events(stream)) {
    if (e.value("type", "") == type && e.value("request_id", "") == request_id) return e;
  }
  return nullptr;
}

inline std::string random_hex(std::size_t digits) {
  std::string out;
  while (out.size() < digits) {
    for (char c : unique_suffix()) {
      if (out.size() < digits) out += "0123456789abcdef"[static_cast<unsigned char>(c) % 16];
    }
  }
  return out;
}

class ObservabilityFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    receiver = new OtlpReceiver();
    world = new MembersWorld("observability", {{"MAILLON_RATE_LIMIT", "100000"},
                                               {"MAILLON_RATE_BURST", "100000"},
                                               {"MAILLON_OTLP_ENDPOINT", receiver->endpoint()},
                                               {"MAILLON_OTLP_FLUSH_MS", "100"}});
    community = world->create_community("Tourcoing", {{"min_balance", 0}, {"signup_bonus", 120}});
    site = world->create_site(community, "Tiers-lieu de la Bourgogne", 50.72, 3.16);
    offers = new ServiceProcess("offers", world->env());
    ledger = new ServiceProcess("ledger", world->env());
    exchange = new ServiceProcess("exchange", world->env());
    notify = new ServiceProcess("notify", world->env());
    for (auto* p : {offers, ledger, exchange, notify}) p->start();
    gateway = new TestGateway({{"members", world->members->port()},
                               {"offers", offers->port()},
                               {"ledger", ledger->port()},
                               {"exchange", exchange->port()},
                               {"notify", notify->port()}});
  }
  static void TearDownTestSuite() {
    delete gateway;
    for (auto* p : {notify, exchange, ledger, offers}) delete p;
    delete world;
    delete receiver;
  }

  static MemberInfo member(const std::string& name) {
    MemberInfo m = world->register_member(community, name, site);
    // The ledger opens the account (with the signup bonus) from member.registered.
    EXPECT_TRUE(eventually(
        [&] { return ledger_balance(Client(ledger->url(), m.token), m.id).balance == 120; },
        kTraceTimeoutMs))
        << name << " never got an account";
    return m;
  }

  static std::string gift(const MemberInfo& owner, int64_t minutes) {
    auto r = Client(offers->url(), owner.token).post("/v1/offers", gift_offer(minutes));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }

  // A call through the gateway as `who`, with extra headers (X-Request-Id, traceparent).
  static HttpResult via_gateway(const MemberInfo& who, const std::string& method,
                                const std::string& path, const Json& body, Headers headers) {
    headers.emplace_back("Authorization", "Bearer " + who.token);
    return http_request(gateway->url(), method, path, body.is_null() ? "" : body.dump(), headers);
  }

  // Proposes once the exchange service has heard of the listing (it learns it from the stream).
  static HttpResult propose(const MemberInfo& who, const std::string& offer_id,
                            const Headers& headers) {
    HttpResult r;
    eventually(
        [&] {
          r = via_gateway(who, "POST", "/v1/exchanges", {{"offer_id", offer_id}}, headers);
          return !(r.status == 422 && r.json().value("code", "") == "unknown-listing");
        },
        kTraceTimeoutMs, 100);
    return r;
  }

  static std::string stream(const std::string& name) { return world->prefix + ":" + name; }

  static inline OtlpReceiver* receiver = nullptr;
  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* offers = nullptr;
  static inline ServiceProcess* ledger = nullptr;
  static inline ServiceProcess* exchange = nullptr;
  static inline ServiceProcess* notify = nullptr;
  static inline TestGateway* gateway = nullptr;
  static inline std::string community, site;
};

}  // namespace maillon::testing
