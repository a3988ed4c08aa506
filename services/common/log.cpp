// JSON-lines logger. One mutex-guarded write per line so lines never interleave.
#include "services/common/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "services/common/clock.hpp"
#include "services/common/time.hpp"

namespace maillon::log {
namespace {

std::mutex g_mutex;
std::string g_service = "maillon";
thread_local std::string t_request_id;

// Log lines carry the real time in milliseconds (never a test's moved clock).
std::string now_rfc3339() {
  return format_rfc3339_us(system_now_us(), 3);
}

void write(const char* level, std::string_view message, Fields fields) {
  nlohmann::json line = {{"ts", now_rfc3339()},
                         {"level", level},
                         {"service", g_service},
                         {"msg", std::string(message)}};
  if (!t_request_id.empty()) line["request_id"] = t_request_id;
  for (const auto& [k, v] : fields) line[std::string(k)] = v;
  auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%s\n", text.c_str());
}

}  // namespace

void set_service(std::string name) {
  g_service = std::move(name);
}
const std::string& service() {
  return g_service;
}
void info(std::string_view m, Fields f) {
  write("info", m, f);
}
void warn(std::string_view m, Fields f) {
  write("warn", m, f);
}
void error(std::string_view m, Fields f) {
  write("error", m, f);
}
void set_request_id(std::string id) {
  t_request_id = std::move(id);
}
const std::string& request_id() {
  return t_request_id;
}

}  // namespace maillon::log
