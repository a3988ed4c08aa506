// Resident memory budgets of a running stack (issue 22): each service's VmRSS idle, then its peak
// (VmHWM, reset first through /proc/<pid>/clear_refs) while script/load drives the whole stack
// through its gateway. Budgets: 32 MiB idle, 128 MiB under load; a service over budget is named
// on stderr and makes the program fail.
//
// Env: MAILLON_BENCH_RUN_DIR (the stack's run directory: <service>.pid files, as script/lib.sh's
// start_service writes them; script/bench sets it), MAILLON_TEST_GATEWAY_URL (its gateway);
// optional MAILLON_BENCH_LOAD_SECONDS (default 20), MAILLON_BENCH_LOAD_RATE (script/load's rate:
// exchanges started per second in its realistic mix, default 20), MAILLON_BENCH_LOAD_COMMAND
// (default script/load of the repository).
// Prints: BENCH memory.<service>.idle_mib ours=<MiB> anchor=32 ratio=<x>, and .load_mib against
// 128, one pair per service (replicas <name>.<n> each their own).
#include <sys/types.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

constexpr double kIdleBudgetMib = 32;
constexpr double kLoadBudgetMib = 128;
constexpr int kServicesMax = 64;  // a stack has about fifteen; more is a wrong directory

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// The services of the run directory that are alive: name → pid.
std::map<std::string, pid_t> services(const std::filesystem::path& run_dir) {
  std::map<std::string, pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir)) {
    if (entry.path().extension() != ".pid") continue;
    long pid = 0;
    std::ifstream(entry.path()) >> pid;
    if (pid <= 0 || !std::filesystem::exists("/proc/" + std::to_string(pid) + "/status")) continue;
    found[entry.path().stem().string()] = static_cast<pid_t>(pid);
    if (found.size() > kServicesMax) throw std::runtime_error("too many pid files: wrong run dir?");
  }
  return found;
}

// A field of /proc/<pid>/status in kB ("VmRSS", "VmHWM"), in MiB.
std::optional<double> status_mib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream in(line.substr(field.size() + 1));
    double kb = 0;
    in >> kb;
    return kb / 1024;
  }
  return std::nullopt;
}

// Peak RSS counts from now on (the kernel's "5" in clear_refs): the start-up peak, when the
// schemas migrate and caches load, is not the load's.
void reset_peak(pid_t pid) {
  std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5";
}

bool print_budget(const std::string& name, const char* what, double mib, double budget) {
  std::printf("BENCH memory.%s.%s ours=%.1f anchor=%.0f ratio=%.2f\n", name.c_str(), what, mib,
              budget, mib / budget);
  std::fflush(stdout);
  if (mib <= budget) return true;
  std::fprintf(stderr, "over budget: %s %s %.1f MiB > %.0f MiB\n", name.c_str(), what, mib, budget);
  return false;
}

int run() {
  const std::filesystem::path run_dir = env_or("MAILLON_BENCH_RUN_DIR", "");
  const std::string gateway = env_or("MAILLON_TEST_GATEWAY_URL", "");
  if (run_dir.empty() || gateway.empty()) {
    throw std::runtime_error("needs MAILLON_BENCH_RUN_DIR and MAILLON_TEST_GATEWAY_URL");
  }
  const auto pids = services(run_dir);
  if (pids.empty()) throw std::runtime_error("no running service in " + run_dir.string());
  std::map<std::string, double> idle;
  for (const auto& [name, pid] : pids) {
    idle[name] = status_mib(pid, "VmRSS").value_or(0);
    reset_peak(pid);
  }
  // The repository: script/lib.sh's MAILLON_ROOT, else the one holding build/tests/<this>.
  const std::string source = env_or(
      "MAILLON_ROOT",
      std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path().parent_path());
  // The load's own report (and its BENCH lines, script/load's to print) goes to a file: only
  // the budgets are this program's results.
  const std::string log = std::filesystem::temp_directory_path() / "maillon-bench-memory-load.log";
  const std::string command = "MAILLON_LOAD_SECONDS=" + env_or("MAILLON_BENCH_LOAD_SECONDS", "20") +
                              " MAILLON_LOAD_RATE=" + env_or("MAILLON_BENCH_LOAD_RATE", "20") +
                              " " + env_or("MAILLON_BENCH_LOAD_COMMAND", source + "/script/load") +
                              " '" + gateway + "' --no-pgbench >'" + log + "' 2>&1";
  std::fprintf(stderr, "load: %s\n", command.c_str());
  // Its exit status says whether its latency budgets held, which is not what is measured here.
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "note: script/load reported a failed budget or step (see %s)\n",
                 log.c_str());
  }
  bool within = true;
  for (const auto& [name, pid] : pids) {
    const auto peak = status_mib(pid, "VmHWM");
    if (!peak) {
      std::fprintf(stderr, "%s (pid %d) ended during the load\n", name.c_str(), pid);
      within = false;
      continue;
    }
    within = print_budget(name, "idle_mib", idle[name], kIdleBudgetMib) && within;
    within = print_budget(name, "load_mib", *peak, kLoadBudgetMib) && within;
  }
  return within ? 0 : 1;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memory bench failed: %s\n", e.what());
    return 1;
  }
}
