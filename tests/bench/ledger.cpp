// Ledger throughput: our HTTP path (group-committed batches) against a naive PostgreSQL ledger
// (one transaction per transfer, both rows locked in id order) on the same server, uniform over
// 10,000 accounts and with one hot account (Zipf s=2); plus pgbench TPC-B as the server's
// yardstick. Ours is measured twice: through the batch endpoint (the headline figures) and one
// transfer per request (`*_single`), both over keep-alive connections. Nobody may debit another
// member's account, so the staff member pays for each payer while acting for them
// (X-On-Behalf-Of), as the desk does; a batch request thus comes from one payer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "services/common/ids.hpp"

namespace {

using namespace maillon::testing;
using Clock = std::chrono::steady_clock;

constexpr int kAccounts = 10'000;
constexpr int kClients = 16;
// Each side is measured for kMeasure in kRounds slices, ours and the anchor taking turns, so that
// a drift of the machine's speed during the run (2 shared cores here) weighs on both alike.
constexpr auto kMeasure = std::chrono::seconds(8);
constexpr int kRounds = 4;
constexpr std::size_t kTransfersPerRequest = 200;

// One HTTP/1.1 connection kept open across requests, as a real client library would: the
// harness's one-connection-per-request client would measure connection set-up, not the ledger.
class KeepAliveClient {
 public:
  explicit KeepAliveClient(uint16_t port) : port_(port) {}
  ~KeepAliveClient() { disconnect(); }
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;

  // Status and body of one POST; status 0 when the connection failed (it is reopened next time).
  std::pair<int, std::string> post(const std::string& path, const std::string& body,
                                   const std::string& token, const std::string& on_behalf_of) {
    return send("POST", path, body, token, on_behalf_of);
  }
  std::pair<int, std::string> get(const std::string& path, const std::string& token,
                                  const std::string& on_behalf_of) {
    return send("GET", path, "", token, on_behalf_of);
  }

 private:
  std::pair<int, std::string> send(const char* method, const std::string& path,
                                   const std::string& body, const std::string& token,
                                   const std::string& on_behalf_of) {
    if (fd_ < 0 && !connect_once()) return {0, {}};
    const std::string request =
        std::string(method) + " " + path +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
        "\r\nX-On-Behalf-Of: " + on_behalf_of +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    if (!send_all(request)) return {0, {}};
    return read_response();
  }

  bool connect_once() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
    disconnect();
    return false;
  }
  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }
  bool send_all(const std::string& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        disconnect();
        return false;
      }
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  // Our services always answer with a Content-Length: nothing else needs parsing here.
  std::pair<int, std::string> read_response() {
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return failed();
    }
    std::string head = buffer_.substr(0, head_end);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto length_at = head.find("content-length:");
    if (length_at == std::string::npos || head.size() < 12) return failed();
    const std::size_t length = std::stoul(head.substr(length_at + 15));
    while (buffer_.size() < head_end + 4 + length) {
      if (!fill()) return failed();
    }
    const int status = std::atoi(head.c_str() + 9);
    std::string body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, head_end + 4 + length);
    return {status, std::move(body)};
  }
  std::pair<int, std::string> failed() {
    disconnect();
    return {0, {}};
  }

  uint16_t port_;
  int fd_ = -1;
  std::string buffer_;
};

// Draws account indexes: uniform, or Zipf(s) by rank so that index 0 is the hot account.
class AccountPicker {
 public:
  explicit AccountPicker(double zipf_s) {
    if (zipf_s <= 0) return;
    double total = 0;
    for (int k = 1; k <= kAccounts; ++k) total += 1.0 / std::pow(k, zipf_s);
    double running = 0;
    for (int k = 1; k <= kAccounts; ++k) {
      running += 1.0 / std::pow(k, zipf_s) / total;
      cdf_.push_back(running);
    }
  }
  int pick(std::mt19937_64& rng) const {
    if (cdf_.empty()) return std::uniform_int_distribution<int>(0, kAccounts - 1)(rng);
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    const auto at = std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return std::min(static_cast<int>(at), kAccounts - 1);
  }
  std::pair<int, int> pair(std::mt19937_64& rng) const {
    const int a = pick(rng);
    int b = pick(rng);
    while (b == a) b = pick(rng);
    return {a, b};
  }

 private:
  std::vector<double> cdf_;
};

// Runs `one` from kClients threads for one slice of kMeasure, each thread stopping itself at the
// slice's end (nobody sleeps through it); `one` returns how many transfers it completed.
// Returns completed transfers per second.
template <class MakeWorker>
double measure(MakeWorker make_worker) {
  std::atomic<long> done{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const auto end = start + kMeasure / kRounds;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto one = make_worker(i);
      std::mt19937_64 rng(1234 + i);
      while (Clock::now() < end) {
        done += one(rng);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(done.load()) / seconds;
}

constexpr const char* kNaiveSchema = R"SQL(
DROP SCHEMA IF EXISTS bench_naive CASCADE;
CREATE SCHEMA bench_naive;
CREATE TABLE bench_naive.accounts (id bigint PRIMARY KEY, balance_minutes bigint NOT NULL);
CREATE TABLE bench_naive.entries (id bigserial PRIMARY KEY, from_id bigint NOT NULL,
  to_id bigint NOT NULL, amount_minutes bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());
INSERT INTO bench_naive.accounts SELECT g, 0 FROM generate_series(0, 9999) g;
)SQL";

double naive_tps(const std::string& url, const AccountPicker& picker) {
  return measure([&](int) {
    auto conn = std::make_shared<pqxx::connection>(url);
    return [conn, &picker](std::mt19937_64& rng) {
      auto [a, b] = picker.pair(rng);
      const int64_t low = std::min(a, b), high = std::max(a, b);
      for (;;) {
        try {
          pqxx::work tx(*conn);
          tx.exec_params(
              "SELECT balance_minutes FROM bench_naive.accounts WHERE id IN ($1, $2) "
              "ORDER BY id FOR UPDATE",
              low, high);
          tx.exec_params(
              "UPDATE bench_naive.accounts SET balance_minutes = balance_minutes - 1 WHERE id = $1",
              a);
          tx.exec_params(
              "UPDATE bench_naive.accounts SET balance_minutes = balance_minutes + 1 WHERE id = $1",
              b);
          tx.exec_params(
              "INSERT INTO bench_naive.entries (from_id, to_id, amount_minutes) VALUES ($1, $2, 1)",
              a, b);
          tx.commit();
          return 1;
        } catch (const pqxx::deadlock_detected&) {
        }
      }
    };
  });
}

const std::string& member_at(const std::vector<std::string>& members, int index) {
  return members[static_cast<std::size_t>(index)];
}

// One minute from the member acted for (the request's X-On-Behalf-Of) to `payee`.
Json transfer_body(const std::vector<std::string>& members, int payee) {
  return {{"id", maillon::new_uuid()}, {"to_member_id", member_at(members, payee)}, {"minutes", 1}};
}

// Ours, one transfer per request.
double ours_single_tps(uint16_t port, const std::string& token,
                       const std::vector<std::string>& members, const AccountPicker& picker) {
  return measure([&](int) {
    auto client = std::make_shared<KeepAliveClient>(port);
    return [client, &token, &members, &picker](std::mt19937_64& rng) {
      const auto [payer, payee] = picker.pair(rng);
      const Json body = transfer_body(members, payee);
      const auto answer =
          client->post("/v1/ledger/transfers", body.dump(), token, member_at(members, payer));
      return answer.first == 201 ? 1 : 0;
    };
  });
}

// The HTTP framework's ceiling for these clients: the same process's /healthz (no session, no
// database), requests per second from the same kClients keep-alive connections, each waiting for
// its answer. A single transfer can never be faster than that.
double healthz_rps(uint16_t port) {
  return measure([&](int) {
    auto client = std::make_shared<KeepAliveClient>(port);
    return [client](std::mt19937_64&) { return client->get("/healthz", "", "").first == 200; };
  });
}

// The same clients reading the payer's account through the same door as a transfer: the staff
// member's session checked, acting for the member (X-On-Behalf-Of), the account and its
// community's limits read, nothing written. About what a request costs before any transfer is
// decided or committed; a single transfer does as much, and writes.
double account_read_rps(uint16_t port, const std::string& token,
                        const std::vector<std::string>& members, const AccountPicker& picker) {
  return measure([&](int) {
    auto client = std::make_shared<KeepAliveClient>(port);
    return [client, &token, &members, &picker](std::mt19937_64& rng) {
      const std::string& payer = member_at(members, picker.pick(rng));
      return client->get("/v1/ledger/accounts/" + payer, token, payer).first == 200 ? 1 : 0;
    };
  });
}

long count_created(const std::string& answer) {
  // Keys come sorted and a transfer has no "status" of its own: one match per created item.
  constexpr std::string_view kCreated = "\"status\":201";
  long created = 0;
  for (auto at = answer.find(kCreated); at != std::string::npos;
       at = answer.find(kCreated, at + kCreated.size())) {
    ++created;
  }
  return created;
}

// Ours, `per_request` transfers per request through the batch endpoint.
double batch_tps(uint16_t port, const std::string& token, const std::vector<std::string>& members,
                 const AccountPicker& picker, std::size_t per_request) {
  return measure([&](int) {
    auto client = std::make_shared<KeepAliveClient>(port);
    return [client, &token, &members, &picker, per_request](std::mt19937_64& rng) {
      // One payer per request (the member acted for), each payee drawn as the pairs' second.
      const int payer = picker.pick(rng);
      Json transfers = Json::array();
      for (std::size_t i = 0; i < per_request; ++i) {
        int payee = picker.pick(rng);
        while (payee == payer) payee = picker.pick(rng);
        transfers.push_back(transfer_body(members, payee));
      }
      const Json body = {{"transfers", transfers}};
      const auto [status, answer] =
          client->post("/v1/ledger/transfers/batch", body.dump(), token, member_at(members, payer));
      return status == 200 ? count_created(answer) : 0;
    };
  });
}

// Ours, kTransfersPerRequest transfers per request: the headline batch lines.
double ours_batch_tps(uint16_t port, const std::string& token,
                      const std::vector<std::string>& members, const AccountPicker& picker) {
  return batch_tps(port, token, members, picker, kTransfersPerRequest);
}

// The machine's busy CPU time so far, in seconds, every process and the kernel counted
// (/proc/stat: user, nice, system, irq and softirq; not idle, iowait, nor the time the hypervisor
// gave to others, which would make our work look dearer and the bound lower).
double machine_busy_seconds() {
  std::FILE* stat = std::fopen("/proc/stat", "r");
  if (stat == nullptr) return 0;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  const int got = std::fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                              &idle, &iowait, &irq, &softirq);
  std::fclose(stat);
  if (got < 7) return 0;
  const auto ticks = static_cast<double>(user + nice + system + irq + softirq);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Runs `slice` (which returns a rate per second) and gives that rate with the cores the whole
// machine kept busy meanwhile.
template <class Slice>
std::pair<double, double> rate_and_cores(Slice slice) {
  const double busy = machine_busy_seconds();
  const auto start = Clock::now();
  const double rate = slice();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {rate, (machine_busy_seconds() - busy) / seconds};
}

// The most single transfers per second this machine's CPU could carry from kClients clients,
// whatever the code between the socket and PostgreSQL: an upper bound, measured, not a figure of
// ours. A single transfer costs at least what a /healthz request costs the machine (the client,
// the kernel, the framework: `per_request`), plus its share of a commit that carries at most
// kClients transfers, since each client has one in flight. That share is taken, generously, from
// batch requests of kClients transfers each sent by the same kClients clients, which the ledger
// gathers into commits of up to kClients * kClients transfers: the CPU per such request, less a
// /healthz request's, over kClients. CPU is the whole machine's (PostgreSQL, Redis, the relay,
// the kernel), the rest of the stack's background included, as it runs while the single lines
// do (a tenth of a core here). Every other approximation favours a higher bound.
double single_bound_tps(uint16_t port, const std::string& token,
                        const std::vector<std::string>& members, const AccountPicker& picker) {
  const auto [healthz, healthz_cores] = rate_and_cores([&] { return healthz_rps(port); });
  const auto [transfers, batch_cores] = rate_and_cores(
      [&] { return batch_tps(port, token, members, picker, static_cast<std::size_t>(kClients)); });
  if (healthz <= 0 || transfers <= 0) return 0;
  const double per_request = healthz_cores / healthz;
  const double per_batch_request = batch_cores / (transfers / static_cast<double>(kClients));
  const double per_transfer =
      per_request + std::max(per_batch_request - per_request, 0.0) / static_cast<double>(kClients);
  const double cores = static_cast<double>(std::thread::hardware_concurrency());
  std::fprintf(stderr,
               "bench:   bound: /healthz %.0f/s on %.2f cores (%.0f us each); "
               "batches of %d at %.0f transfers/s on %.2f cores (%.0f us a request); a single "
               "transfer >= %.0f us of CPU, so <= %.0f/s on %.0f cores\n",
               healthz, healthz_cores, per_request * 1e6, kClients, transfers, batch_cores,
               per_batch_request * 1e6, per_transfer * 1e6, cores / per_transfer, cores);
  return per_transfer > 0 ? cores / per_transfer : 0;
}

// Acts once for every member (reads their account), as the members of a running ledger have
// been seen before: each service keeps who a member is in Redis for a minute, and a run whose
// every request named a member not seen yet would measure that first look-up (a PostgreSQL
// call per request), not the transfers. The single lines run within that minute.
void warm_identities(uint16_t port, const std::string& token,
                     const std::vector<std::string>& members) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&] {
      KeepAliveClient client(port);
      for (std::size_t at = next++; at < members.size(); at = next++) {
        client.get("/v1/ledger/accounts/" + members[at], token, members[at]);
      }
    });
  }
  for (auto& t : threads) t.join();
}

// Waits until the relay has published every queued event, so that one run's backlog does not
// slow the next one down.
void wait_for_outbox(const std::string& url) {
  pqxx::connection conn(url);
  eventually(
      [&] {
        pqxx::work tx(conn);
        return tx.exec("SELECT count(*) FROM ledger.outbox WHERE published_at IS NULL")[0][0]
                   .as<long>() == 0;
      },
      120'000);
}

// Opens kAccounts members of the bench's site and their accounts straight in the members' and
// the ledger's tables: registering 10,000 members through the members service would hash 10,000
// passwords and measure nothing of ours. The staff member acts for them (same home site).
std::vector<std::string> seed_accounts(const std::string& url, const std::string& community_id,
                                       const std::string& site_id) {
  pqxx::connection conn(url);
  pqxx::work tx(conn);
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(
           "WITH m AS (INSERT INTO members.members (id, community_id, email, display_name, "
           "home_site_id) SELECT u, $1::uuid, 'bench-' || u || '@bench.maillon.test', 'Bench', "
           "$3::uuid FROM (SELECT gen_random_uuid() AS u FROM generate_series(1, $2)) g "
           "RETURNING id) "
           "INSERT INTO ledger.accounts (id, community_id, member_id, is_community) "
           "SELECT id::text, $1::uuid, id, false FROM m RETURNING id",
           community_id, kAccounts, site_id)) {
    ids.emplace_back(row[0].c_str());
  }
  tx.exec(kNaiveSchema);
  tx.commit();
  return ids;
}

double pgbench_tps() {
  const std::string url = create_database("pgbench");
  const std::string init = "pgbench -q -i -s 10 '" + url + "' > /dev/null 2>&1";
  if (std::system(init.c_str()) != 0) return 0;
  const std::string run =
      "pgbench -c 16 -j 4 -T 10 '" + url + "' 2>/dev/null | grep -E '^tps' | head -1";
  FILE* out = popen(run.c_str(), "r");
  if (out == nullptr) return 0;
  char line[256] = {0};
  const bool got = std::fgets(line, sizeof line, out) != nullptr;
  pclose(out);
  double tps = 0;
  if (got) std::sscanf(line, "tps = %lf", &tps);
  return tps;
}

void print(const char* name, double ours, double anchor) {
  std::printf("BENCH %s ours=%.0f anchor=%.0f ratio=%.2f\n", name, ours, anchor,
              anchor > 0 ? ours / anchor : 0.0);
  std::fflush(stdout);
}

}  // namespace

int main() {
  MembersWorld world("benchledger");
  const std::string community = world.create_community(
      "Bench", {{"min_balance", -60000}, {"max_balance", 60000}, {"signup_bonus", 0}});
  const std::string site = world.create_site(community, "Bench", 50.63, 3.07);
  ServiceProcess ledger("ledger", world.env({{"MAILLON_WORKERS", "64"},
                                             {"MAILLON_DB_POOL", "16"},
                                             {"MAILLON_BODY_LIMIT", std::to_string(1 << 20)}}));
  ledger.start();
  const MemberInfo staff = world.register_member(community, "staff", site);
  world.make_staff(site, staff.id);
  const bool opened = eventually(
      [&] {
        return http_request(ledger.url(), "GET", "/v1/ledger/accounts/" + staff.id, "",
                            {{"Authorization", "Bearer " + staff.token}})
                   .status == 200;
      },
      15000);
  if (!opened) {
    std::cerr << "the ledger never opened the staff account\n";
    return 1;
  }
  const auto members = seed_accounts(world.database, community, site);
  const AccountPicker uniform(0), hot(2.0);
  const std::string& token = staff.token;
  const uint16_t port = ledger.port();
  int run_number = 0;
  // How many commits our runs took, and how many requests and transfers they shared: the group
  // commit at work (one line per run, on stderr).
  const auto ours = [&](auto run, const AccountPicker& picker) {
    wait_for_outbox(world.database);
    std::fprintf(stderr, "bench: our run %d starts\n", ++run_number);
    const double commits = metric_value(ledger.url(), "maillon_ledger_batch_commits_total");
    const double requests = metric_value(ledger.url(), "maillon_ledger_batched_requests_total");
    const double commands = metric_value(ledger.url(), "maillon_ledger_batched_commands_total");
    const double foreseen = metric_value(ledger.url(), "maillon_ledger_batches_foreseen_total");
    const double tps = run(port, token, members, picker);
    const double c = metric_value(ledger.url(), "maillon_ledger_batch_commits_total") - commits;
    if (c > 0) {
      std::fprintf(
          stderr,
          "bench:   %.0f/s, %.0f commits (%.0f decided before their lock), %.1f requests and "
          "%.1f transfers each\n",
          tps, c, metric_value(ledger.url(), "maillon_ledger_batches_foreseen_total") - foreseen,
          (metric_value(ledger.url(), "maillon_ledger_batched_requests_total") - requests) / c,
          (metric_value(ledger.url(), "maillon_ledger_batched_commands_total") - commands) / c);
    }
    return tps;
  };
  // Transfers per second of ours and of the anchor, over kRounds slices taken in turns.
  // MAILLON_BENCH_ONLY=<text>: only the lines whose name contains it (e.g. "single").
  const char* only = std::getenv("MAILLON_BENCH_ONLY");
  // `anchor` measures the line's anchor: the naive ledger, or a ceiling for the single lines.
  const auto in_turns = [&](const char* name, auto run, const AccountPicker& picker, auto anchor) {
    if (only != nullptr && std::string_view(name).find(only) == std::string_view::npos) return;
    warm_identities(port, token, members);
    double ours_sum = 0, anchor_sum = 0;
    // MAILLON_BENCH_OURS_ONLY=1: ours alone, for a profiler (the line's anchor then reads 0).
    const bool ours_only = std::getenv("MAILLON_BENCH_OURS_ONLY") != nullptr;
    for (int round = 0; round < kRounds; ++round) {
      if (!ours_only) anchor_sum += anchor();
      ours_sum += ours(run, picker);
    }
    print(name, ours_sum / kRounds, anchor_sum / kRounds);
  };
  const auto naive = [&](const AccountPicker& picker) {
    return [&world, at = &picker] { return naive_tps(world.database, *at); };
  };
  in_turns("ledger.uniform", ours_batch_tps, uniform, naive(uniform));
  in_turns("ledger.hot", ours_batch_tps, hot, naive(hot));
  in_turns("ledger.uniform_single", ours_single_tps, uniform, naive(uniform));
  in_turns("ledger.hot_single", ours_single_tps, hot, naive(hot));
  // How near the single lines come to what the same clients get from requests that do less: the
  // framework's empty /healthz, and an account read through the transfer's own door (session,
  // acting for the member, two rows read).
  in_turns("ledger.single_ceiling", ours_single_tps, uniform, [&] { return healthz_rps(port); });
  in_turns("ledger.single_read_ceiling", ours_single_tps, uniform,
           [&] { return account_read_rps(port, token, members, uniform); });
  // What the single lines' goals ask of this machine: the most single transfers per second its
  // CPU allows (single_bound_tps, an upper bound whatever the code), against the same anchors as
  // uniform_single and hot_single. A ratio under a goal says no implementation reaches it here.
  in_turns("ledger.uniform_single_bound", single_bound_tps, uniform, naive(uniform));
  in_turns("ledger.hot_single_bound", single_bound_tps, hot, naive(hot));
  if (only == nullptr) std::printf("BENCH ledger.pgbench_tpcb tps=%.0f\n", pgbench_tps());
  return 0;
}
