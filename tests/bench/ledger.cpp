// Ledger throughput: our HTTP path (group-committed batches) against a naive PostgreSQL ledger
// (one transaction per transfer, both rows locked in id order) on the same server, uniform over
// 10,000 accounts and with one hot account (Zipf s=2); plus pgbench TPC-B as the server's
// yardstick.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "services/common/ids.hpp"

namespace {

using namespace maillon::testing;
using Clock = std::chrono::steady_clock;

constexpr int kAccounts = 10'000;
constexpr int kClients = 16;
constexpr auto kMeasure = std::chrono::seconds(8);

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

// Runs `one` from kClients threads for kMeasure; returns completed operations per second.
template <class MakeWorker>
double measure(MakeWorker make_worker) {
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto one = make_worker(i);
      std::mt19937_64 rng(1234 + i);
      while (!stop) {
        if (one(rng)) ++done;
      }
    });
  }
  std::this_thread::sleep_for(kMeasure);
  stop = true;
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
          return true;
        } catch (const pqxx::deadlock_detected&) {
        }
      }
    };
  });
}

double ours_tps(const std::string& base_url, const std::string& token,
                const std::vector<std::string>& members, const AccountPicker& picker) {
  return measure([&](int) {
    return [&](std::mt19937_64& rng) {
      auto [a, b] = picker.pair(rng);
      const Json body = {{"id", maillon::new_uuid()},
                         {"from_member_id", members[static_cast<std::size_t>(a)]},
                         {"to_member_id", members[static_cast<std::size_t>(b)]},
                         {"minutes", 1}};
      const auto r = http_request(base_url, "POST", "/v1/ledger/transfers", body.dump(),
                                  {{"Authorization", "Bearer " + token}});
      return r.status == 201;
    };
  });
}

// Opens kAccounts member accounts straight in the ledger's table: registering 10,000 members
// through the members service would hash 10,000 passwords and measure nothing of ours.
std::vector<std::string> seed_accounts(const std::string& url, const std::string& community_id) {
  pqxx::connection conn(url);
  pqxx::work tx(conn);
  std::vector<std::string> ids;
  for (const auto& row :
       tx.exec_params("INSERT INTO ledger.accounts (id, community_id, member_id, is_community) "
                      "SELECT u::text, $1::uuid, u, false FROM (SELECT gen_random_uuid() AS u "
                      "FROM generate_series(1, $2)) g RETURNING id",
                      community_id, kAccounts)) {
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
  ServiceProcess ledger("ledger",
                        world.env({{"MAILLON_WORKERS", "64"}, {"MAILLON_DB_POOL", "16"}}));
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
  const auto members = seed_accounts(world.database, community);
  const AccountPicker uniform(0), hot(2.0);
  const double ours_uniform = ours_tps(ledger.url(), staff.token, members, uniform);
  const double naive_uniform = naive_tps(world.database, uniform);
  print("ledger.uniform", ours_uniform, naive_uniform);
  const double ours_hot = ours_tps(ledger.url(), staff.token, members, hot);
  const double naive_hot = naive_tps(world.database, hot);
  print("ledger.hot", ours_hot, naive_hot);
  std::printf("BENCH ledger.pgbench_tpcb tps=%.0f\n", pgbench_tps());
  return 0;
}
