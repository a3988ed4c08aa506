// Integration harness: a small HTTP client, throwaway databases, and service processes started
// on free ports against the test PostgreSQL and Redis (script/test provides them).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/support/wait.hpp"

namespace maillon::testing {

using Json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

// Durations in seconds, for the tests' clocks, due dates and windows.
inline constexpr int64_t kHourS = 3600;
inline constexpr int64_t kDayS = 24 * kHourS;

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  Json json() const;
};

// Marks the requests this thread sends while it lives as deliberately wrong (a malformed body, an
// unknown path, a wrong method, an id that is not one...): the request itself is not held to
// schemas/openapi.yaml, but its answer must still be a documented problem+json (see
// openapi_contract.hpp). Every other request and answer of every test is checked.
class DeliberatelyWrong {
 public:
  DeliberatelyWrong();
  ~DeliberatelyWrong();
  DeliberatelyWrong(const DeliberatelyWrong&) = delete;
  DeliberatelyWrong& operator=(const DeliberatelyWrong&) = delete;
  static bool active();  // in this thread
};

// Runs `send` (one or more requests) marked as deliberately wrong and returns what it returns.
template <class Send>
auto deliberately_wrong(Send&& send) {
  DeliberatelyWrong mark;
  return send();
}

// One HTTP/1.1 request over a fresh connection ("http://host:port" + path). The exchange is
// checked against schemas/openapi.yaml (expect_contract): a mismatch fails the running test.
HttpResult http_request(const std::string& base_url, const std::string& method,
                        const std::string& path, const std::string& body = "",
                        const Headers& headers = {});

// A value of the /metrics at `base_url`: `series` is a metric's name, or its name with labels
// (`maillon_job_runs_total{job="x"}`). A bare name adds up every label set of that metric; a
// series that is not there reads 0, as a counter that has not moved yet.
double metric_value(const std::string& base_url, const std::string& series);

// Reads a required environment variable; fails the whole run when it is missing (no silent skip).
std::string required_env(const char* name);
std::string database_url();  // MAILLON_TEST_DATABASE_URL
std::string redis_url();     // MAILLON_TEST_REDIS_URL
// A new empty database on the test server; returns its URL.
std::string create_database(const std::string& label);
void drop_database(const std::string& url);  // a database create_database made
std::string unique_suffix();                 // short random lower-case suffix for names
uint16_t free_port();

class ServiceProcess {
 public:
  ServiceProcess(std::string name, std::map<std::string, std::string> env);
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  void start();  // forks, execs build/services/<name>/maillon-<name>, waits until /readyz is 200
  void kill9();
  void terminate();  // SIGTERM and wait for the exit (graceful stop)
  bool running() const { return pid_ > 0; }
  bool alive() const;  // started and not exited since (a crash shows here)
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

 private:
  std::string name_;
  std::map<std::string, std::string> env_;
  uint16_t port_;
  pid_t pid_ = -1;
  std::string log_path_;
};

// A client remembering a token and an optional X-On-Behalf-Of.
class Client {
 public:
  explicit Client(std::string base_url, std::string token = "")
      : base_(std::move(base_url)), token_(std::move(token)) {}
  HttpResult get(const std::string& path) const { return call("GET", path, ""); }
  HttpResult post(const std::string& path, const Json& body = Json::object()) const {
    return call("POST", path, body.dump());
  }
  HttpResult patch(const std::string& path, const Json& body) const {
    return call("PATCH", path, body.dump());
  }
  HttpResult del(const std::string& path) const { return call("DELETE", path, ""); }
  HttpResult call(const std::string& method, const std::string& path,
                  const std::string& body) const;
  Client acting_for(const std::string& member_id) const;
  Client with_token(const std::string& token) const { return Client(base_, token); }
  // The same client whose every request is deliberately wrong (see DeliberatelyWrong).
  Client wrong() const {
    Client c = *this;
    c.wrong_ = true;
    return c;
  }
  const std::string& token() const { return token_; }
  const std::string& base() const { return base_; }

 private:
  std::string base_;
  std::string token_;
  std::string on_behalf_of_;
  bool wrong_ = false;
};

// A member's account as GET /v1/ledger/accounts/{id} shows it; zeros when it cannot be read.
struct LedgerBalance {
  int64_t balance = 0;
  int64_t pending_debit = 0;
  int64_t pending_credit = 0;
  int64_t available = 0;
  bool operator==(const LedgerBalance&) const = default;
};
std::ostream& operator<<(std::ostream& out, const LedgerBalance& b);
LedgerBalance ledger_balance(const Client& as_member, const std::string& member_id);

// The members service on a fresh database, an admin, a community and helpers to add people.
struct MemberInfo {
  std::string id;
  std::string token;
  std::string email;
};

class MembersWorld {
 public:
  // `extra_env` is passed to every process started from this world.
  explicit MembersWorld(const std::string& label,
                        std::map<std::string, std::string> extra_env = {});
  std::map<std::string, std::string> env(std::map<std::string, std::string> more = {}) const;
  Client admin() const { return Client(members->url(), admin_token); }
  std::string create_community(const std::string& name, const Json& policy = Json::object());
  std::string create_site(const std::string& community_id, const std::string& name, double lat,
                          double lon, const std::string& kind = "tiers_lieu");
  MemberInfo register_member(const std::string& community_id, const std::string& name,
                             const std::optional<std::string>& home_site = std::nullopt,
                             std::optional<std::pair<double, double>> location = std::nullopt);
  void make_staff(const std::string& site_id, const std::string& member_id);

  std::string database;
  std::string prefix;  // stream prefix, unique per world
  std::map<std::string, std::string> base_env;
  std::unique_ptr<ServiceProcess> members;
  std::string admin_token;
};

// Checks `check` until it returns true or `timeout_ms` passes, the pauses between checks growing
// up to `pause_ms`: wait_until (tests/support/wait.hpp, the one poll of the tests) in
// milliseconds. Only for what nobody signals; a test waiting for time to pass moves the
// services' clock instead (test_clock.hpp).
bool eventually(const std::function<bool()>& check, int timeout_ms = 5000, int pause_ms = 20);

}  // namespace maillon::testing
