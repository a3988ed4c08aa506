// Integration harness implementation: raw sockets for HTTP, fork/exec for services.
#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "event_contract.hpp"
#include "openapi_contract.hpp"

namespace maillon::testing {

Json HttpResult::json() const {
  auto j = Json::parse(body, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

namespace {

struct Target {
  std::string host;
  int port;
};

Target parse_base(const std::string& base) {
  std::string rest = base.substr(base.find("://") + 3);
  auto slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  return {rest.substr(0, colon),
          colon == std::string::npos ? 80 : std::stoi(rest.substr(colon + 1))};
}

// Reads one response: the headers, then Content-Length bytes or chunks up to the last one
// (servers may keep the connection open despite "Connection: close").
std::string read_all(int fd) {
  std::string out;
  char buf[16384];
  for (;;) {
    auto head_end = out.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::string head = out.substr(0, head_end);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto cl = head.find("content-length:");
      if (cl != std::string::npos) {
        std::size_t length = std::stoul(head.substr(cl + 15));
        if (out.size() >= head_end + 4 + length) return out.substr(0, head_end + 4 + length);
      } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
        if (out.find("\r\n0\r\n\r\n", head_end) != std::string::npos) return out;
      } else if (head.rfind("http/1.1 204", 0) == 0 || head.rfind("http/1.1 304", 0) == 0) {
        return out;
      }
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string decode_chunked(const std::string& body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    std::size_t size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    out += body.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

HttpResult parse_response(const std::string& raw) {
  HttpResult r;
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return r;
  std::string head = raw.substr(0, head_end);
  r.body = raw.substr(head_end + 4);
  auto first_eol = head.find("\r\n");
  std::string status_line = head.substr(0, first_eol);
  r.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
  std::size_t pos = first_eol == std::string::npos ? head.size() : first_eol + 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = eol + 2;
  }
  if (r.headers["transfer-encoding"] == "chunked") r.body = decode_chunked(r.body);
  return r;
}

}  // namespace

namespace {

thread_local int wrong_depth = 0;

HttpResult exchange(const std::string& base_url, const std::string& method, const std::string& path,
                    const std::string& body, const Headers& headers) {
  auto target = parse_base(base_url);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(target.port));
  inet_pton(AF_INET, target.host == "localhost" ? "127.0.0.1" : target.host.c_str(),
            &addr.sin_addr);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return HttpResult{};  // status 0: nothing listens there
  }
  std::string req =
      method + " " + path + " HTTP/1.1\r\nHost: " + target.host + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw = read_all(fd);
  ::close(fd);
  return parse_response(raw);
}

}  // namespace

DeliberatelyWrong::DeliberatelyWrong() {
  ++wrong_depth;
}
DeliberatelyWrong::~DeliberatelyWrong() {
  --wrong_depth;
}
bool DeliberatelyWrong::active() {
  return wrong_depth > 0;
}

double metric_value(const std::string& base_url, const std::string& series) {
  const HttpResult r = http_request(base_url, "GET", "/metrics");
  EXPECT_EQ(r.status, 200) << base_url << "/metrics";
  const bool bare = series.find('{') == std::string::npos;
  double total = 0;
  std::size_t start = 0;
  while (start < r.body.size()) {
    std::size_t end = r.body.find('\n', start);
    if (end == std::string::npos) end = r.body.size();
    const std::string_view line(r.body.data() + start, end - start);
    start = end + 1;
    if (line.substr(0, series.size()) != series || line.size() <= series.size()) continue;
    std::size_t value_at = series.size();
    if (line[value_at] == '{' && bare) value_at = line.find("} ", value_at);
    if (value_at == std::string_view::npos || line[value_at] == '{') continue;
    if (line[value_at] == '}') ++value_at;
    if (line[value_at] != ' ') continue;
    total += std::strtod(std::string(line.substr(value_at + 1)).c_str(), nullptr);
  }
  return total;
}

HttpResult http_request(const std::string& base_url, const std::string& method,
                        const std::string& path, const std::string& body, const Headers& headers) {
  HttpResult r = exchange(base_url, method, path, body, headers);
  expect_contract({method, path, body, r});
  return r;
}

std::ostream& operator<<(std::ostream& out, const LedgerBalance& b) {
  return out << "{balance " << b.balance << ", pending_debit " << b.pending_debit
             << ", pending_credit " << b.pending_credit << ", available " << b.available << "}";
}

LedgerBalance ledger_balance(const Client& as_member, const std::string& member_id) {
  auto r = as_member.get("/v1/ledger/accounts/" + member_id);
  if (r.status != 200) return {};
  const Json j = r.json();
  return {j.value("balance_minutes", int64_t{0}), j.value("pending_debit_minutes", int64_t{0}),
          j.value("pending_credit_minutes", int64_t{0}), j.value("available_minutes", int64_t{0})};
}

std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    throw std::runtime_error(std::string(name) + " is not set: run the tests through script/test");
  }
  return v;
}

std::string database_url() {
  return required_env("MAILLON_TEST_DATABASE_URL");
}
std::string redis_url() {
  return required_env("MAILLON_TEST_REDIS_URL");
}

std::string unique_suffix() {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(getpid()));
  static const char* letters = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 10; ++i) s += letters[rng() % 36];
  return s;
}

std::string create_database(const std::string& label) {
  std::string base = database_url();
  std::string name = "mt_" + label + "_" + unique_suffix();
  {
    pqxx::connection conn(base);
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
  }
  auto slash = base.rfind('/');
  auto query = base.find('?', slash);
  return base.substr(0, slash + 1) + name + (query == std::string::npos ? "" : base.substr(query));
}

namespace {

// The ports free_port hands out: above the kernel's ephemeral range when there is room there, so
// that no outgoing connection (to PostgreSQL, Redis, a service) ever holds one, else just below
// it, where script/lib.sh's free_port draws the servers' ports.
std::pair<int, int> test_port_range() {
  int low = 32768, high = 60999;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> low >> high;
  if (!range || low <= 0 || high < low) low = 32768, high = 60999;
  if (65535 - high >= 2000) return {high + 1, 65535};
  return {20000, std::max(low - 1, 21000)};
}

// Whether nothing listens on (or otherwise holds) 127.0.0.1:port right now.
bool port_bindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as the services bind
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// A port no other test process is given while this one lives. Asking the kernel for port 0 and
// closing it is not enough: ctest runs tests side by side, and two of them once got the same
// port, so one test's /readyz was answered by the other test's service that had bound it first
// and every request of the first test met the wrong service. Each port handed out is claimed with
// an flock on a file of its own, held until this process exits (the services it starts do not
// inherit the descriptor: they close every descriptor but their log).
uint16_t free_port() {
  static std::mutex claimed_mutex;
  static std::vector<int> claims;  // the lock descriptors, kept open for the process's life
  const std::lock_guard lock(claimed_mutex);
  static const std::string dir = [] {
    std::string d = "/tmp/maillon-test-ports";
    ::mkdir(d.c_str(), 01777);
    ::chmod(d.c_str(), 01777);  // one machine's test runs may be several users'
    return d;
  }();
  const auto [low, high] = test_port_range();
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    const std::string path = dir + "/" + std::to_string(port);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // another test process's (or this one's) port
      ::close(fd);
      continue;
    }
    if (!port_bindable(port)) {  // a server outside the tests, or a leftover service
      ::close(fd);
      continue;
    }
    claims.push_back(fd);
    return static_cast<uint16_t>(port);
  }
  throw std::runtime_error("no free port left between " + std::to_string(low) + " and " +
                           std::to_string(high));
}

void drop_database(const std::string& url) {
  const auto slash = url.rfind('/');
  const auto query = url.find('?', slash);
  const std::string name =
      url.substr(slash + 1, query == std::string::npos ? std::string::npos : query - slash - 1);
  pqxx::connection conn(database_url());
  pqxx::nontransaction tx(conn);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
}

ServiceProcess::ServiceProcess(std::string name, std::map<std::string, std::string> env)
    : name_(std::move(name)), env_(std::move(env)), port_(free_port()) {
  log_path_ = "/tmp/maillon-it-" + name_ + "-" + std::to_string(port_) + ".log";
  // The log is this process's from here on (its restarts append to it): a file an earlier run
  // left under the same name and port would otherwise be read as this one's lines.
  if (::truncate(log_path_.c_str(), 0) != 0 && errno != ENOENT) {
    throw std::runtime_error("cannot empty " + log_path_);
  }
}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0) terminate();
}

void ServiceProcess::start() {
  std::string bin = std::string(MAILLON_BINARY_DIR) + "/services/" + name_ + "/maillon-" + name_;
  // The test's environment, then the service's own settings over it: a variable the runner
  // exports (script/test's MAILLON_SMTP_URL) must not shadow the one a test gives its service,
  // and getenv() reads the first of two entries of one name.
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) merged.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  for (const auto& [k, v] : env_) merged[k] = v;
  merged["PORT"] = std::to_string(port_);
  std::vector<std::string> env_strings;
  env_strings.reserve(merged.size());
  for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    // Nothing of the test's but the log: a service left running by a test that crashed must
    // not hold the test's descriptors (a lock its runner took, a socket) for its whole life.
    close_range(3, ~0U, 0);
    char* argv[] = {bin.data(), nullptr};
    execve(bin.c_str(), argv, envp.data());
    _exit(127);
  }
  bool ready =
      eventually([&] { return http_request(url(), "GET", "/readyz").status == 200; }, 30000);
  if (!ready)
    throw std::runtime_error("service " + name_ + " did not become ready; see " + log_path_);
}

bool ServiceProcess::alive() const {
  return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0;
}

void ServiceProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

namespace {

// Whether the child `pid` exits within `timeout`, reaped then: its pidfd becomes readable when it
// exits, so nothing polls. A kernel without pidfd_open (before 5.3) gets the poll of wait.hpp.
bool exits_within(pid_t pid, std::chrono::milliseconds timeout) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    return wait_until([&] { return waitpid(pid, nullptr, WNOHANG) == pid; }, timeout);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd exit_signal{fd, POLLIN, 0};
  int ready = 0;
  do {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    ready = ::poll(&exit_signal, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  } while (ready < 0 && errno == EINTR);
  ::close(fd);
  return ready > 0 && waitpid(pid, nullptr, WNOHANG) == pid;
}

}  // namespace

void ServiceProcess::terminate() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (exits_within(pid_, std::chrono::seconds(15))) {
    pid_ = -1;
    expect_event_contract(env_);  // what this test's services published matches its schemas
    return;
  }
  kill9();
}

HttpResult Client::call(const std::string& method, const std::string& path,
                        const std::string& body) const {
  Headers h;
  if (!token_.empty()) h.emplace_back("Authorization", "Bearer " + token_);
  if (!on_behalf_of_.empty()) h.emplace_back("X-On-Behalf-Of", on_behalf_of_);
  if (wrong_) return deliberately_wrong([&] { return http_request(base_, method, path, body, h); });
  return http_request(base_, method, path, body, h);
}

Client Client::acting_for(const std::string& member_id) const {
  Client c(base_, token_);
  c.on_behalf_of_ = member_id;
  return c;
}

bool eventually(const std::function<bool()>& check, int timeout_ms, int pause_ms) {
  return wait_until(check, std::chrono::milliseconds(timeout_ms),
                    std::chrono::milliseconds(pause_ms));
}

MembersWorld::MembersWorld(const std::string& label, std::map<std::string, std::string> extra_env)
    : database(create_database(label)), prefix("t" + unique_suffix()) {
  base_env = {{"DATABASE_URL", database},
              {"REDIS_URL", redis_url()},
              {"MAILLON_STREAM_PREFIX", prefix},
              {"MAILLON_SCHEMAS_DIR", std::string(MAILLON_SOURCE_DIR) + "/schemas"},
              {"MAILLON_ADMIN_EMAIL", "admin@test.maillon"},
              {"MAILLON_ADMIN_PASSWORD", "admin-password-test"},
              {"MAILLON_RATE_LIMIT", "100000"},
              {"MAILLON_RATE_BURST", "100000"},
              {"MAILLON_LOG_FORMAT", "json"}};
  for (auto& [k, v] : extra_env) base_env[k] = v;
  members = std::make_unique<ServiceProcess>("members", base_env);
  members->start();
  auto r = http_request(members->url(), "POST", "/v1/auth/login",
                        R"({"email":"admin@test.maillon","password":"admin-password-test"})");
  if (r.status != 200) throw std::runtime_error("admin login failed: " + r.body);
  admin_token = r.json()["token"].get<std::string>();
}

std::map<std::string, std::string> MembersWorld::env(
    std::map<std::string, std::string> more) const {
  auto e = base_env;
  for (auto& [k, v] : more) e[k] = v;
  return e;
}

std::string MembersWorld::create_community(const std::string& name, const Json& policy) {
  auto r = admin().post("/v1/communities", {{"name", name}, {"policy", policy}});
  if (r.status != 201) throw std::runtime_error("create community: " + r.body);
  return r.json()["id"];
}

std::string MembersWorld::create_site(const std::string& community_id, const std::string& name,
                                      double lat, double lon, const std::string& kind) {
  auto r = admin().post("/v1/sites", {{"community_id", community_id},
                                      {"name", name},
                                      {"kind", kind},
                                      {"location", {{"lat", lat}, {"lon", lon}}},
                                      {"address", name + ", Hauts-de-France"}});
  if (r.status != 201) throw std::runtime_error("create site: " + r.body);
  return r.json()["id"];
}

MemberInfo MembersWorld::register_member(const std::string& community_id, const std::string& name,
                                         const std::optional<std::string>& home_site,
                                         std::optional<std::pair<double, double>> location) {
  std::string email = name + "." + unique_suffix() + "@test.maillon";
  for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Json body = {{"email", email},
               {"password", "mot-de-passe-1"},
               {"display_name", name},
               {"community_id", community_id}};
  if (home_site) body["home_site_id"] = *home_site;
  if (location) body["location"] = {{"lat", location->first}, {"lon", location->second}};
  // As the administrator: anonymous sign-ups are limited per client address, and tests register
  // many members from one.
  auto r = http_request(members->url(), "POST", "/v1/auth/register", body.dump(),
                        {{"Authorization", "Bearer " + admin_token}});
  if (r.status != 201) throw std::runtime_error("register: " + r.body);
  auto j = r.json();
  return MemberInfo{j["member"]["id"], j["token"], email};
}

void MembersWorld::make_staff(const std::string& site_id, const std::string& member_id) {
  auto r = admin().post("/v1/sites/" + site_id + "/staff", {{"member_id", member_id}});
  if (r.status != 204) throw std::runtime_error("make staff: " + r.body);
}

}  // namespace maillon::testing
