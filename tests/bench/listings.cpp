// Benchmark of the offers service under wrk: a French full-text + near search and listing
// creation, each against an anchor, the same process's /healthz under the same load (the HTTP
// framework's ceiling). Starts its own members and offers processes on a fresh database through
// the integration harness (tests/integration/harness.hpp).
//
// Env: MAILLON_TEST_DATABASE_URL, MAILLON_TEST_REDIS_URL; optional MAILLON_BENCH_SECONDS
// (default 5), MAILLON_BENCH_CONNECTIONS (default 32) and MAILLON_BENCH_POSTERS (the members who
// create, default 16).
// Prints: BENCH listings.search ours=<req/s> anchor=<req/s> ratio=<x>, and listings.create; and
// listings.create_insert: the same creations against what PostgreSQL itself allows for the same
// rows (one single-row INSERT of a listing and one of its outbox event per transaction, from as
// many connections as wrk opens), the figure issue 22 asks to reach half of.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace {

using maillon::testing::MemberInfo;
using maillon::testing::MembersWorld;
using maillon::testing::ServiceProcess;

constexpr const char* kSearchPath = "/v1/offers?q=perceuse&near=50.63,3.07&radius_km=5";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  pclose(pipe);
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Requests per second that wrk reports for `url` with the Lua `script` (or none).
double wrk_rps(const std::string& url, const std::string& script, int seconds, int connections) {
  std::string command = "wrk -t2 -c" + std::to_string(connections) + " -d" +
                        std::to_string(seconds) + "s" + (script.empty() ? "" : " -s " + script) +
                        " '" + url + "'";
  std::string out = capture(command);
  auto at = out.find("Requests/sec:");
  if (at == std::string::npos) throw std::runtime_error("wrk said: " + out);
  auto non2xx = out.find("Non-2xx or 3xx responses:");
  if (non2xx != std::string::npos) {
    std::fprintf(stderr, "warning: %s",
                 out.substr(non2xx, out.find('\n', non2xx) - non2xx + 1).c_str());
  }
  return std::stod(out.substr(at + 13));
}

std::string search_script(const std::string& token) {
  return "wrk.headers[\"Authorization\"] = \"Bearer " + token + "\"\n";
}

// Varied titles and positions around Lille, so searches find a realistic mix; each request from
// one of `tokens`' members in turn, as many clients are many members (the anchor's rows, too,
// have a new member each).
std::string create_script(const std::vector<std::string>& tokens) {
  std::string list;
  for (const auto& token : tokens) list += "\"Bearer " + token + "\",";
  return "local tokens = {" + list + "}\n" + R"LUA(wrk.method = "POST"
local titles = {"Perceuse à percussion", "Vélo de ville", "Escabeau alu", "Tondeuse électrique",
                "Machine à coudre", "Perceuse visseuse", "Scie sauteuse", "Ponceuse"}
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"kind":"good","mode":"lend","category":"outillage-a-main","title":"%s %d",' ..
    '"tags":["bricolage"],"location":{"lat":%.5f,"lon":%.5f}}',
    titles[n % #titles + 1], n, 50.55 + math.random() * 0.15, 2.95 + math.random() * 0.25)
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = tokens[n % #tokens + 1]}
  return wrk.format(nil, nil, headers, body)
end
)LUA";
}

constexpr const char* kPlainSchema = R"SQL(
DROP SCHEMA IF EXISTS bench_plain CASCADE;
CREATE SCHEMA bench_plain;
CREATE TABLE bench_plain.listings (id uuid PRIMARY KEY, member_id uuid NOT NULL,
  community_id uuid NOT NULL, kind text NOT NULL, mode text NOT NULL, category text NOT NULL,
  title text NOT NULL, tags text[] NOT NULL, lat double precision, lon double precision,
  status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_plain.outbox (id bigserial PRIMARY KEY, stream text NOT NULL,
  payload text NOT NULL, published_at timestamptz);
)SQL";

// Transactions per second of the plain anchor: each one INSERT of a listing and one of its event
// (about the size of a listing.created), committed, from `connections` connections.
double plain_insert_tps(const std::string& url, int seconds, int connections) {
  {
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    tx.exec(kPlainSchema);
    tx.commit();
  }
  std::atomic<long> done{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  // Each connection's thread stops itself at the window's end; nobody sleeps through it.
  const auto end = start + std::chrono::seconds(seconds);
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      pqxx::connection conn(url);
      const std::string payload(600, 'x');
      for (long n = 0; std::chrono::steady_clock::now() < end; ++n) {
        pqxx::work tx(conn);
        tx.exec_params(
            "INSERT INTO bench_plain.listings (id, member_id, community_id, kind, mode, "
            "category, title, tags, lat, lon, status) VALUES (gen_random_uuid(), "
            "gen_random_uuid(), gen_random_uuid(), 'good', 'lend', 'outillage-a-main', $1, "
            "'{bricolage}', 50.6, 3.05, 'active')",
            "Perceuse " + std::to_string(i) + "-" + std::to_string(n));
        tx.exec_params("INSERT INTO bench_plain.outbox (stream, payload) VALUES ('offers', $1)",
                       payload);
        tx.commit();
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(done.load()) / elapsed;
}

void print_bench(const char* name, double ours, double anchor) {
  std::printf("BENCH %s ours=%.0f anchor=%.0f ratio=%.2f\n", name, ours, anchor,
              anchor > 0 ? ours / anchor : 0.0);
  std::fflush(stdout);
}

int run() {
  const int seconds = std::stoi(env_or("MAILLON_BENCH_SECONDS", "5"));
  const int connections = std::stoi(env_or("MAILLON_BENCH_CONNECTIONS", "32"));
  char dir_template[] = "/tmp/maillon-bench-listings.XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  // The harness's members world: a fresh database, no rate limit, an administrator.
  MembersWorld world("bench_listings",
                     {{"MAILLON_RATE_LIMIT", "1000000"}, {"MAILLON_RATE_BURST", "10000000"}});
  std::string community = world.create_community("Banc d'essai");
  std::string site = world.create_site(community, "Tiers-lieu de Fives", 50.63, 3.09);
  MemberInfo member = world.register_member(community, "Membre", site);
  std::vector<std::string> tokens = {member.token};
  const int posters = std::stoi(env_or("MAILLON_BENCH_POSTERS", "16"));
  for (int i = 1; i < posters; ++i)
    tokens.push_back(world.register_member(community, "membre" + std::to_string(i), site).token);
  ServiceProcess offers("offers", world.env());
  offers.start();
  write_file(dir + "/create.lua", create_script(tokens));
  write_file(dir + "/search.lua", search_script(member.token));
  // Creation first: it also fills the table the searches then run on.
  double anchor_create = wrk_rps(offers.url() + "/healthz", "", seconds, connections);
  double create = wrk_rps(offers.url() + "/v1/offers", dir + "/create.lua", seconds, connections);
  double anchor_search = wrk_rps(offers.url() + "/healthz", "", seconds, connections);
  double search = wrk_rps(offers.url() + kSearchPath, dir + "/search.lua", seconds, connections);
  print_bench("listings.search", search, anchor_search);
  print_bench("listings.create", create, anchor_create);
  print_bench("listings.create_insert", create,
              plain_insert_tps(world.database, seconds, connections));
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "listings bench failed: %s\n", e.what());
    return 1;
  }
}
