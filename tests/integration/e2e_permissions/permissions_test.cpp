// The permission matrix (tests/permissions/matrix.txt) against schemas/openapi.yaml and against
// the real stack: every operation has a row, and every cell (operation × role) answers its
// expected status through the gateway, with a body the OpenAPI file describes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/e2e_gateway.hpp"
#include "harness.hpp"
#include "matrix_file.hpp"
#include "openapi_contract.hpp"
#include "permission_world.hpp"

namespace maillon::testing {
namespace {

const std::string kMatrixFile = std::string(MAILLON_SOURCE_DIR) + "/tests/permissions/matrix.txt";
constexpr int kRetriesOn429 = 8;
constexpr int kLongestWaitS = 5;
constexpr int kPollOn429Ms = 250;

// Both suites read the same two documents once per process.
struct Documents {
  std::unique_ptr<OpenApiContract> contract;
  PermissionMatrix matrix;
  std::string error;
};

Documents& documents() {
  static Documents d = [] {
    Documents out;
    try {
      out.matrix = load_matrix(kMatrixFile);
      out.contract = std::make_unique<OpenApiContract>(load_openapi());
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    return out;
  }();
  return d;
}

class PermissionMatrixFile : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!documents().error.empty()) FAIL() << documents().error;
  }
};

TEST_F(PermissionMatrixFile, names_the_eight_roles_of_the_issue) {
  EXPECT_EQ(documents().matrix.roles, PermissionWorld::roles());
}

TEST_F(PermissionMatrixFile, has_one_row_per_operation_of_the_openapi_file) {
  std::set<std::string> operations, rows;
  for (const auto& op : documents().contract->operations())
    operations.insert(op.method + " " + op.path);
  std::string missing, unknown, twice;
  for (const auto& row : documents().matrix.rows) {
    if (!rows.insert(row.operation()).second) twice += "\n  " + row.operation();
    if (!operations.count(row.operation()))
      unknown += "\n  line " + std::to_string(row.line) + ": " + row.operation();
  }
  for (const auto& op : operations) {
    if (!rows.count(op)) missing += "\n  " + op;
  }
  EXPECT_TRUE(missing.empty()) << "operations of schemas/openapi.yaml without a row in "
                               << kMatrixFile << ":" << missing;
  EXPECT_TRUE(unknown.empty()) << "rows naming no operation of schemas/openapi.yaml:" << unknown;
  EXPECT_TRUE(twice.empty()) << "operations with two rows:" << twice;
}

// Each expected status must be one the operation documents (else the row or the file is wrong).
TEST_F(PermissionMatrixFile, expects_only_statuses_the_operation_documents) {
  std::string undocumented;
  const auto& roles = documents().matrix.roles;
  for (const auto& row : documents().matrix.rows) {
    for (std::size_t i = 0; i < row.expect.size(); ++i) {
      const auto& status = row.expect[i];
      if (!status || documents().contract->documents_status(row.method, row.path_template, *status))
        continue;
      undocumented += "\n  line " + std::to_string(row.line) + ": " + row.operation() + " " +
                      roles[i] + " expects " + std::to_string(*status);
    }
  }
  EXPECT_TRUE(undocumented.empty())
      << "expected statuses that schemas/openapi.yaml does not document (add them to the "
         "operation's responses, or fix the row):"
      << undocumented;
}

// Running the cells ---------------------------------------------------------------------------

struct Outcome {
  const MatrixRow* row;
  std::string role;
  int expected;
  int got;
  std::string problem;  // why the answer does not do (empty: it does)
};

std::string shortened(std::string s, std::size_t n = 160) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s.size() > n ? s.substr(0, n) + "…" : s;
}

// The status line and headers of an endless answer (an event stream), then the connection closes;
// a finite answer (an error) is read whole.
HttpResult stream_head(const std::string& base, const std::string& path, const Headers& headers) {
  const auto colon = base.rfind(':');
  const int port = std::stoi(base.substr(colon + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  HttpResult out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[4096];
  std::size_t head_end = std::string::npos;
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
    if (head_end == std::string::npos) head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) continue;
    std::istringstream head(raw.substr(0, head_end));
    std::string line, version;
    std::getline(head, line);
    std::istringstream(line) >> version >> out.status;
    while (std::getline(head, line)) {
      const auto c = line.find(':');
      if (c == std::string::npos) continue;
      std::string name = line.substr(0, c), value = line.substr(c + 1);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      value.erase(0, value.find_first_not_of(' '));
      if (!value.empty() && value.back() == '\r') value.pop_back();
      out.headers[name] = value;
    }
    if (out.status == 200) break;  // the stream: its head is enough
    const std::size_t length =
        out.headers.count("content-length") ? std::stoul(out.headers["content-length"]) : 0;
    if (raw.size() >= head_end + 4 + length) break;
  }
  ::close(fd);
  if (head_end != std::string::npos && out.status != 200) out.body = raw.substr(head_end + 4);
  expect_contract({"GET", path, "", out, out.status != 200});
  return out;
}

class E2ePermissions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!documents().error.empty()) return;
    gateway = new Gateway();
    try {
      world = new PermissionWorld(*gateway);
    } catch (const std::exception& e) {
      world_error = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete world;
    delete service;
    delete gateway;
    world = nullptr;
    service = nullptr;
    gateway = nullptr;
  }
  void SetUp() override {
    if (!documents().error.empty()) FAIL() << documents().error;
    if (!world_error.empty()) FAIL() << world_error;
  }

  static inline Gateway* gateway = nullptr;
  static inline PermissionWorld* world = nullptr;
  static inline MembersWorld* service = nullptr;  // probes answer on a service's own port
  static inline std::string world_error;

  static std::string base_for(const MatrixRow& row) {
    if (!row.via_service) return gateway->url();
    if (!service) service = new MembersWorld("permissions");
    return service->members->url();
  }

  // One call; a 429 is waited out (every call comes from the gateway's one address).
  static HttpResult call(const MatrixRow& row, const Cell& cell, const std::string& target,
                         const std::string& body) {
    const std::string base = base_for(row);
    const auto send = [&] {
      return row.head_only ? stream_head(base, target, cell.headers())
                           : cell.client(base).call(row.method, target, body);
    };
    HttpResult r = send();
    for (int attempt = 0; attempt < kRetriesOn429 && r.status == 429; ++attempt) {
      const auto after = r.headers.count("retry-after") ? r.headers["retry-after"] : "1";
      const int seconds = std::max(1, std::atoi(after.c_str()));
      if (seconds > kLongestWaitS) break;  // a limit by the hour: the cell reports the 429
      // Asked again until the limit lets it through, within the time it said to wait.
      eventually(
          [&] {
            r = send();
            return r.status != 429;
          },
          seconds * 1000, kPollOn429Ms);
    }
    return r;
  }

  static Outcome run_cell(const MatrixRow& row, const std::string& role, int expected) {
    Outcome o{&row, role, expected, 0, ""};
    try {
      Cell cell = world->caller(role, row.fresh_caller);
      const std::string target = world->resolve(row.target, cell);
      const std::string body = world->resolve(row.body, cell);
      const HttpResult r = call(row, cell, target, body);
      o.got = r.status;
      std::string why;
      for (const auto& v : documents().contract->check(row.method, row.path_template, r))
        why += (why.empty() ? "" : "; ") + v;
      if (r.status != expected) why = shortened(r.body) + (why.empty() ? "" : " [" + why + "]");
      o.problem = shortened(why, 400);
    } catch (const std::exception& e) {
      o.problem = std::string("could not run the cell: ") + e.what();
    }
    return o;
  }
};

// Ids differ from cell to cell; without them, the same fault reads the same.
std::string without_ids(const std::string& text) {
  static const std::regex ids(
      "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}");
  return std::regex_replace(text, ids, "<id>");
}

// The cells that answered otherwise, one line per operation and fault with the roles it hit,
// and the notes of the row under its first line.
std::string table(const std::vector<Outcome>& bad) {
  struct Line {
    const MatrixRow* row;
    int expected, got;
    std::string roles, problem;
  };
  std::vector<Line> lines;
  for (const auto& o : bad) {
    const std::string problem = without_ids(o.problem);
    auto same = std::find_if(lines.begin(), lines.end(), [&](const Line& l) {
      return l.row == o.row && l.expected == o.expected && l.got == o.got && l.problem == problem;
    });
    if (same == lines.end()) {
      lines.push_back({o.row, o.expected, o.got, o.role, problem});
    } else {
      same->roles += "," + o.role;
    }
  }
  std::ostringstream out;
  out << std::left << std::setw(46) << "operation" << std::setw(14) << "expected"
      << "roles: why\n";
  const MatrixRow* last = nullptr;
  for (const auto& l : lines) {
    out << std::setw(46) << l.row->operation() << std::setw(14)
        << (std::to_string(l.expected) + " got " + std::to_string(l.got)) << l.roles << ": "
        << l.problem << "\n";
    if (l.row != last) {
      for (const auto& n : l.row->notes) out << "    line " << l.row->line << ": " << n << "\n";
    }
    last = l.row;
  }
  return out.str();
}

TEST_F(E2ePermissions, every_cell_answers_its_expected_status_as_the_openapi_file_describes) {
  const auto& m = documents().matrix;
  std::vector<Outcome> bad;
  int run = 0, skipped = 0;
  for (const auto& row : m.rows) {
    for (std::size_t i = 0; i < row.expect.size(); ++i) {
      if (!row.expect[i]) {
        ++skipped;
        continue;
      }
      ++run;
      Outcome o = run_cell(row, m.roles[i], *row.expect[i]);
      if (o.got != o.expected || !o.problem.empty()) bad.push_back(std::move(o));
    }
  }
  std::cout << run << " cells run, " << skipped << " not run (see their notes), " << bad.size()
            << " wrong\n";
  for (const auto& n : world->notes()) std::cout << "world: " << n << "\n";
  EXPECT_TRUE(bad.empty()) << bad.size() << " of " << run << " cells of " << kMatrixFile
                           << " answered otherwise (expected vs got; a note points at a known "
                              "disagreement):\n"
                           << table(bad);
}

}  // namespace
}  // namespace maillon::testing
