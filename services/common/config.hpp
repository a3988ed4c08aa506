// Service configuration, read once from the environment with defaults and validated at start.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace maillon {

// The general rate limit, per client: sustained requests per second and the burst above it.
struct RateLimit {
  int per_second = 50;
  int burst = 200;
};

// The password lane: hashing threads per process (each Argon2id hash holds 64 MiB while it runs)
// and the logins, registrations and erasures that may wait for one (429 beyond).
struct PasswordLane {
  int threads = 1;
  std::size_t queue_limit = 64;
  int wait_limit_ms = 10'000;  // waited longer for a thread: 429 without hashing
};

// The outbox relay, which publishes committed events to their streams.
struct RelaySettings {
  int batch_size = 256;  // rows per pass
  int interval_ms = 20;
  std::size_t stream_max_length = 1'000'000;  // streams are trimmed to about this many entries
};

// Stream consumers (consumer.hpp).
struct ConsumerSettings {
  std::string name;  // unique per replica: host + pid by default
  int batch_size = 64;
  int block_ms = 200;
  // Then the message goes to <stream>.dead; redeliveries after crashes count too.
  int max_deliveries = 10;
  int reclaim_idle_ms = 30000;  // entries of a dead consumer are taken over after this
  // How long an unhurried consumer (Pace::unhurried) lets its stream fill after reading a short
  // page, so that under a steady flow it reads, applies and commits pages, not single events.
  int linger_ms = 25;
};

struct Config {
  std::string service_name;
  std::string schema;  // the PostgreSQL schema this service owns
  std::string database_url = "postgresql:///maillon";
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string stream_prefix = "maillon";
  std::string schemas_dir;  // where schemas/<schema>/NNN_*.sql live
  int db_pool_size = 8;
  RelaySettings relay;
  ConsumerSettings consumer;

  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;
  int http_threads = 2;
  // A worker waits with its request while a group commit (the ledger's transfers, new listings)
  // is written: the pool bounds how many requests can share one commit. With 8, 32 clients
  // creating listings shared commits 4 at a time (1,236/s); with 32, 15 at a time (2,243/s).
  int worker_threads = 32;
  std::size_t body_limit_bytes = 64 * 1024;
  RateLimit rate_limit;
  // MAILLON_TRUSTED_PROXIES: peers whose X-Forwarded-For is believed (the ingress's range).
  std::string trusted_proxies = "127.0.0.0/8,::1";
  PasswordLane password_lane;
  // Failed logins allowed per window (a minute by default), per account and per client address
  // (429 beyond); a successful login never counts.
  int login_failures_per_account = 5;
  int login_failures_per_address = 100;
  int login_window_seconds = 60;    // MAILLON_LOGIN_WINDOW_S
  int registrations_per_hour = 60;  // anonymous sign-ups per client address
  std::string admin_email;
  std::string admin_password;
  bool log_json = true;
  // MAILLON_CLOCK_OFFSET_FILE (tests only): the service's clock adds the seconds this file holds
  // to the system time (see Clock::with_offset_file); never set in production.
  std::string clock_offset_file;

  // Reads MAILLON_* variables (and DATABASE_URL / REDIS_URL / PORT). Throws std::invalid_argument
  // naming the variable when a value is malformed: a start-up error is fatal.
  static Config from_env(const std::string& service_name, const std::string& schema,
                         uint16_t default_port);
  void validate() const;

  // The one typed reader of the environment, for these fields and for each service's own
  // settings (read while the service is wired, before it starts). An unset or empty variable is
  // the fallback; a malformed or out-of-range one throws std::invalid_argument naming the
  // variable, and the service exits non-zero with that message in its log.
  static std::string text(const char* name, const std::string& fallback);
  static int64_t integer(const char* name, int64_t fallback, int64_t low, int64_t high);
  static std::chrono::milliseconds duration_ms(const char* name, std::chrono::milliseconds fallback,
                                               std::chrono::milliseconds low,
                                               std::chrono::milliseconds high);
  // A URL whose scheme is one of `schemes` (e.g. "redis"), with something after "scheme://".
  static std::string url(const char* name, const std::string& fallback,
                         std::initializer_list<std::string_view> schemes);
  // One of `choices`.
  static std::string choice(const char* name, const std::string& fallback,
                            std::initializer_list<std::string_view> choices);

  std::string stream(const std::string& name) const { return stream_prefix + ":" + name; }
};

}  // namespace maillon
