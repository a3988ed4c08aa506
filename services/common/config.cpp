// Environment → Config. Every knob has a default so `maillon-<service>` starts with none set.
#include "services/common/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "services/common/auth_headers.hpp"

namespace maillon {
namespace {

// The variable's value, or nullopt when it is unset or empty (then the fallback applies).
std::optional<std::string> value_of(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string in_quotes(const std::string& value) {
  return "\"" + (value.size() > 64 ? value.substr(0, 64) + "..." : value) + "\"";
}

std::string listed(std::initializer_list<std::string_view> items) {
  std::string out;
  for (std::string_view item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

// Shorthands for the fields below.
std::string env_or(const char* name, const std::string& fallback) {
  return Config::text(name, fallback);
}
long long env_int(const char* name, long long fallback, long long low, long long high) {
  return Config::integer(name, fallback, low, high);
}

// Half the cores: hashing never takes the whole machine from the requests that only read.
long long default_password_threads() {
  return std::max(1u, std::thread::hardware_concurrency() / 2);
}

std::string default_consumer_name(const std::string& service) {
  char host[128] = {0};
  gethostname(host, sizeof(host) - 1);
  return service + "-" + host + "-" + std::to_string(getpid());
}

}  // namespace

Config Config::from_env(const std::string& service_name, const std::string& schema,
                        uint16_t default_port) {
  Config c;
  c.service_name = service_name;
  c.schema = schema;
  c.database_url = env_or("DATABASE_URL", c.database_url);
  c.redis_url = url("REDIS_URL", c.redis_url, {"redis"});
  c.stream_prefix = env_or("MAILLON_STREAM_PREFIX", c.stream_prefix);
#ifdef MAILLON_DEFAULT_SCHEMAS_DIR
  c.schemas_dir = env_or("MAILLON_SCHEMAS_DIR", MAILLON_DEFAULT_SCHEMAS_DIR);
#else
  c.schemas_dir = env_or("MAILLON_SCHEMAS_DIR", "schemas");
#endif
  c.bind_address = env_or("MAILLON_BIND", c.bind_address);
  c.port = static_cast<uint16_t>(env_int("PORT", default_port, 0, 65535));
  c.http_threads = static_cast<int>(env_int("MAILLON_HTTP_THREADS", c.http_threads, 1, 64));
  c.worker_threads = static_cast<int>(env_int("MAILLON_WORKERS", c.worker_threads, 1, 256));
  c.db_pool_size = static_cast<int>(env_int("MAILLON_DB_POOL", c.db_pool_size, 1, 256));
  c.body_limit_bytes =
      static_cast<std::size_t>(env_int("MAILLON_BODY_LIMIT", 64 * 1024, 1024, 16 << 20));
  RateLimit& rate = c.rate_limit;
  rate.per_second = static_cast<int>(env_int("MAILLON_RATE_LIMIT", rate.per_second, 1, 1'000'000));
  rate.burst = static_cast<int>(env_int("MAILLON_RATE_BURST", rate.burst, 1, 10'000'000));
  RelaySettings& relay = c.relay;
  relay.batch_size = static_cast<int>(env_int("MAILLON_RELAY_BATCH", 256, 1, 10'000));
  relay.interval_ms = static_cast<int>(env_int("MAILLON_RELAY_INTERVAL_MS", 20, 1, 60'000));
  ConsumerSettings& consumer = c.consumer;
  consumer.max_deliveries =
      static_cast<int>(env_int("MAILLON_MAX_DELIVERIES", consumer.max_deliveries, 1, 1000));
  consumer.reclaim_idle_ms = static_cast<int>(
      env_int("MAILLON_RECLAIM_IDLE_MS", consumer.reclaim_idle_ms, 100, 86'400'000));
  consumer.linger_ms =
      static_cast<int>(env_int("MAILLON_CONSUMER_LINGER_MS", consumer.linger_ms, 0, 1000));
  consumer.name = env_or("MAILLON_CONSUMER_NAME", default_consumer_name(service_name));
  c.trusted_proxies = env_or("MAILLON_TRUSTED_PROXIES", c.trusted_proxies);
  PasswordLane& lane = c.password_lane;
  lane.threads =
      static_cast<int>(env_int("MAILLON_PASSWORD_THREADS", default_password_threads(), 1, 64));
  lane.queue_limit = static_cast<std::size_t>(
      env_int("MAILLON_PASSWORD_QUEUE", static_cast<long long>(lane.queue_limit), 1, 100'000));
  lane.wait_limit_ms =
      static_cast<int>(env_int("MAILLON_PASSWORD_WAIT_MS", lane.wait_limit_ms, 100, 600'000));
  c.login_failures_per_account = static_cast<int>(
      env_int("MAILLON_LOGIN_FAILURES_PER_ACCOUNT", c.login_failures_per_account, 1, 1'000'000));
  c.login_failures_per_address = static_cast<int>(
      env_int("MAILLON_LOGIN_FAILURES_PER_ADDRESS", c.login_failures_per_address, 1, 1'000'000));
  c.login_window_seconds =
      static_cast<int>(env_int("MAILLON_LOGIN_WINDOW_S", c.login_window_seconds, 1, 86'400));
  c.registrations_per_hour = static_cast<int>(
      env_int("MAILLON_REGISTRATIONS_PER_HOUR", c.registrations_per_hour, 1, 1'000'000));
  c.admin_email = env_or("MAILLON_ADMIN_EMAIL", "");
  c.admin_password = env_or("MAILLON_ADMIN_PASSWORD", "");
  c.log_json = choice("MAILLON_LOG_FORMAT", "json", {"json", "text"}) == "json";
  c.clock_offset_file = env_or("MAILLON_CLOCK_OFFSET_FILE", "");
  c.validate();
  return c;
}

void Config::validate() const {
  if (database_url.empty()) throw std::invalid_argument("DATABASE_URL is empty");
  if (schema.empty() ||
      schema.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
    throw std::invalid_argument("schema name must be lower-case letters");
  }
  if (stream_prefix.empty()) throw std::invalid_argument("MAILLON_STREAM_PREFIX is empty");
  if (!TrustedProxies::parse(trusted_proxies)) {
    throw std::invalid_argument(
        "MAILLON_TRUSTED_PROXIES must be comma-separated addresses or CIDRs (at most 64)");
  }
}

std::string Config::text(const char* name, const std::string& fallback) {
  return value_of(name).value_or(fallback);
}

int64_t Config::integer(const char* name, int64_t fallback, int64_t low, int64_t high) {
  const std::optional<std::string> text = value_of(name);
  if (!text) return fallback;
  const std::string range = "an integer between " + std::to_string(low) + " and " +
                            std::to_string(high) + ", not " + in_quotes(*text);
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text->c_str(), &end, 10);
  if (end == text->c_str() || *end != '\0' || errno == ERANGE || value < low || value > high) {
    throw std::invalid_argument(std::string(name) + " must be " + range);
  }
  return value;
}

std::chrono::milliseconds Config::duration_ms(const char* name, std::chrono::milliseconds fallback,
                                              std::chrono::milliseconds low,
                                              std::chrono::milliseconds high) {
  // In milliseconds, as the variables' names say (…_MS).
  return std::chrono::milliseconds(integer(name, fallback.count(), low.count(), high.count()));
}

std::string Config::url(const char* name, const std::string& fallback,
                        std::initializer_list<std::string_view> schemes) {
  std::string value = text(name, fallback);
  for (std::string_view scheme : schemes) {
    const std::string prefix = std::string(scheme) + "://";
    if (value.size() > prefix.size() && value.starts_with(prefix)) return value;
  }
  throw std::invalid_argument(std::string(name) + " must be a URL starting with " +
                              listed(schemes) + "://, not " + in_quotes(value));
}

std::string Config::choice(const char* name, const std::string& fallback,
                           std::initializer_list<std::string_view> choices) {
  std::string value = text(name, fallback);
  for (std::string_view c : choices) {
    if (value == c) return value;
  }
  throw std::invalid_argument(std::string(name) + " must be one of " + listed(choices) + ", not " +
                              in_quotes(value));
}

}  // namespace maillon
