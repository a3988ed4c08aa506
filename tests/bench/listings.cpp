// Benchmark of the offers service under wrk: a French full-text + near search and listing
// creation, each against an anchor, the same process's /healthz under the same load (the HTTP
// framework's ceiling). Starts its own members and offers processes on a fresh database through
// the integration harness (tests/integration/harness.hpp).
//
// Env: MAILLON_TEST_DATABASE_URL, MAILLON_TEST_REDIS_URL; optional MAILLON_BENCH_SECONDS
// (default 5) and MAILLON_BENCH_CONNECTIONS (default 32).
// Prints: BENCH listings.search ours=<req/s> anchor=<req/s> ratio=<x>, and listings.create.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

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

// Varied titles and positions around Lille, so searches find a realistic mix.
std::string create_script(const std::string& token) {
  return search_script(token) + R"LUA(wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local titles = {"Perceuse à percussion", "Vélo de ville", "Escabeau alu", "Tondeuse électrique",
                "Machine à coudre", "Perceuse visseuse", "Scie sauteuse", "Ponceuse"}
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"kind":"good","mode":"lend","category":"outillage-a-main","title":"%s %d",' ..
    '"tags":["bricolage"],"location":{"lat":%.5f,"lon":%.5f}}',
    titles[n % #titles + 1], n, 50.55 + math.random() * 0.15, 2.95 + math.random() * 0.25)
  return wrk.format(nil, nil, nil, body)
end
)LUA";
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
  ServiceProcess offers("offers", world.env());
  offers.start();
  write_file(dir + "/create.lua", create_script(member.token));
  write_file(dir + "/search.lua", search_script(member.token));
  // Creation first: it also fills the table the searches then run on.
  double anchor_create = wrk_rps(offers.url() + "/healthz", "", seconds, connections);
  double create = wrk_rps(offers.url() + "/v1/offers", dir + "/create.lua", seconds, connections);
  double anchor_search = wrk_rps(offers.url() + "/healthz", "", seconds, connections);
  double search = wrk_rps(offers.url() + kSearchPath, dir + "/search.lua", seconds, connections);
  print_bench("listings.search", search, anchor_search);
  print_bench("listings.create", create, anchor_create);
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
