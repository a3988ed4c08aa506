// Service lifecycle and probes.
#include "services/common/service.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "services/common/db.hpp"
#include "services/common/errors.hpp"
#include "services/common/job_pace.hpp"
#include "services/common/log.hpp"
#include "services/common/outbox_written.hpp"
#include "services/common/run_service.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {

namespace {
thread_local bool t_job_found_nothing = false;
std::atomic<unsigned long long> g_job_wakes{0};
}  // namespace

void job_found_nothing() {
  t_job_found_nothing = true;
}
void wake_jobs() {
  g_job_wakes.fetch_add(1);
}
bool take_job_found_nothing() {
  return std::exchange(t_job_found_nothing, false);
}
unsigned long long job_wakes() {
  return g_job_wakes.load();
}
std::chrono::milliseconds doubled(std::chrono::milliseconds base, int times,
                                  std::chrono::milliseconds ceiling) {
  ceiling = std::max(base, ceiling);
  auto pause = base;
  for (int i = 0; i < times && pause < ceiling; ++i) pause *= 2;
  return std::min(pause, ceiling);
}
std::chrono::milliseconds paced_interval(std::chrono::milliseconds interval, int idle_runs) {
  return doubled(interval, idle_runs, kIdleJobIntervalMax);
}

struct Service::Runtime {
  std::unique_ptr<OutboxRelay> relay;
  std::vector<std::unique_ptr<StreamConsumer>> consumers;
  struct JobEntry {
    std::string name;
    std::chrono::milliseconds interval;
    Job job;
    int idle_runs = 0;  // runs in a row that found nothing (job_pace.hpp)
  };
  std::vector<JobEntry> jobs;
  std::vector<std::function<void()>> start_hooks;
  std::thread jobs_thread;
  std::atomic<bool> running{false};
  std::atomic<bool> ready{false};
};

namespace {

HttpOptions http_options(const Config& c) {
  return {.bind_address = c.bind_address,
          .port = c.port,
          .reactor_threads = c.http_threads,
          .worker_threads = c.worker_threads,
          .body_limit_bytes = c.body_limit_bytes,
          .rate_limit = c.rate_limit,
          .trusted_proxies = *TrustedProxies::parse(c.trusted_proxies),
          .password_lane = c.password_lane};
}

}  // namespace

Service::Service(Config c)
    : config(std::move(c)),
      clock(Clock::from_offset_file(config.clock_offset_file)),
      db(config.database_url, config.db_pool_size, config.schema),
      redis(config.redis_url, config.worker_threads),
      outbox(config.stream_prefix),
      auth(db, redis, config.stream_prefix),
      http(http_options(config), metrics),
      runtime_(std::make_unique<Runtime>()) {
  runtime_->relay = std::make_unique<OutboxRelay>(config, db, metrics);
  log::set_service(config.service_name);
  // A commit that wrote events pokes the relay, which publishes them at once.
  db.on_commit([this] {
    if (take_outbox_written()) runtime_->relay->poke();
  });
  add_probes();
}

Service::~Service() {
  stop();
}

void Service::on_start(std::function<void()> hook) {
  runtime_->start_hooks.push_back(std::move(hook));
}

OutboxRelay& Service::relay() {
  return *runtime_->relay;
}

void Service::add_probes() {
  http.route("GET", "/healthz",
             [](const Request&) { return Response::json_text(200, R"({"status":"ok"})"); });
  http.route("GET", "/readyz", [this](const Request&) {
    bool db_ok = db.ping();
    bool redis_ok = redis.with([](Redis& r) { return r.ping(); });
    bool ok = runtime_->ready && db_ok && redis_ok;
    nlohmann::json body = {{"status", ok ? "ready" : "not-ready"},
                           {"postgresql", db_ok ? "ok" : "down"},
                           {"redis", redis_ok ? "ok" : "down"},
                           {"accepting", runtime_->ready.load()}};
    return Response::json_text(ok ? 200 : 503, body.dump());
  });
  http.route("GET", "/metrics", [this](const Request&) {
    metrics.set("maillon_db_retries_total", "", static_cast<double>(db.retries()));
    return Response::text(200, metrics.render(), "text/plain; version=0.0.4");
  });
}

void Service::consume(const std::string& stream, EventHandler handler, EventTypes acts_on,
                      Pace pace) {
  // An event type nobody declared is dead-lettered with its reason before any handler runs.
  EventHandler typed = [h = std::move(handler)](pqxx::work& tx, const Event& e) {
    require_declared(e);
    h(tx, e);
  };
  runtime_->consumers.push_back(std::make_unique<StreamConsumer>(
      config, db, metrics, stream, std::move(typed), std::move(acts_on), pace));
}

void Service::every(const std::string& name, std::chrono::milliseconds interval, Job job) {
  runtime_->jobs.push_back(Runtime::JobEntry{name, interval, std::move(job)});
}

void Service::jobs_loop() {
  std::vector<std::chrono::steady_clock::time_point> due(runtime_->jobs.size(),
                                                         std::chrono::steady_clock::now());
  auto wakes_seen = job_wakes();
  while (runtime_->running) {
    auto now = std::chrono::steady_clock::now();
    if (const auto wakes = job_wakes(); wakes != wakes_seen) {
      wakes_seen = wakes;
      for (std::size_t i = 0; i < runtime_->jobs.size(); ++i) {
        if (runtime_->jobs[i].idle_runs > 0) due[i] = now;
        runtime_->jobs[i].idle_runs = 0;
      }
    }
    for (std::size_t i = 0; i < runtime_->jobs.size() && runtime_->running; ++i) {
      auto& entry = runtime_->jobs[i];
      if (now < due[i]) continue;
      due[i] = now + entry.interval;
      try {
        bool ran = false;
        take_job_found_nothing();
        db.transact([&](pqxx::work& tx) {
          auto got = exec_cached(tx, "SELECT pg_try_advisory_xact_lock(hashtext($1))",
                                 config.schema + ":" + entry.name);
          ran = got[0][0].as<bool>();
          if (ran) entry.job(tx);
        });
        if (ran) {
          entry.idle_runs = take_job_found_nothing() ? entry.idle_runs + 1 : 0;
          due[i] = now + paced_interval(entry.interval, entry.idle_runs);
        }
        // Committed runs by job: operators see a job go round, tests wait for runs, not time.
        if (ran) metrics.inc("maillon_job_runs_total", "job=\"" + entry.name + "\"");
      } catch (const std::exception& e) {
        log::warn("periodic job failed", {{"job", entry.name}, {"error", e.what()}});
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Service::start() {
  migrate(db, config.schemas_dir);
  for (auto& hook : runtime_->start_hooks) hook();
  runtime_->relay->start();
  for (auto& c : runtime_->consumers) c->start();
  runtime_->running = true;
  if (!runtime_->jobs.empty()) runtime_->jobs_thread = std::thread([this] { jobs_loop(); });
  http.start();
  runtime_->ready = true;
  log::info("service started", {{"port", std::to_string(http.port())}});
}

void Service::stop() {
  if (!runtime_->running.exchange(false)) return;
  runtime_->ready = false;
  http.shutdown();
  // Each consumer ends its blocking read (config.consumer.block_ms, 200 ms) before it stops:
  // all at once, so a service with eight streams stops in one read's time, not eight.
  std::vector<std::thread> stoppers;
  stoppers.reserve(runtime_->consumers.size());
  for (auto& c : runtime_->consumers) stoppers.emplace_back([&c] { c->stop(); });
  for (auto& t : stoppers) t.join();
  if (runtime_->jobs_thread.joinable()) runtime_->jobs_thread.join();
  runtime_->relay->stop();
  log::info("service stopped");
}

int Service::run() {
  // Block the stop signals before any thread starts so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  start();
  int received = 0;
  sigwait(&signals, &received);
  log::info("stop signal received", {{"signal", std::to_string(received)}});
  stop();
  return 0;
}

int run_service(const char* name, const char* schema, uint16_t default_port, WireService wire) {
  return run_service(name, schema, default_port, wire, 0);
}

int run_service(const char* name, const char* schema, uint16_t default_port, WireService wire,
                std::size_t min_body_limit_bytes) {
  log::set_service(std::string("maillon-") + name);
  // Each PostgreSQL session says which service holds it (pg_stat_activity, the statement log's
  // %a), unless the operator named it otherwise; libpq reads PGAPPNAME at every connection.
  setenv("PGAPPNAME", (std::string("maillon-") + name).c_str(), 0);
  try {
    Config config = Config::from_env(std::string("maillon-") + name, schema, default_port);
    config.body_limit_bytes = std::max(config.body_limit_bytes, min_body_limit_bytes);
    auto service = std::make_unique<Service>(std::move(config));
    wire(*service);
    return service->run();
  } catch (const std::exception& e) {
    log::error("start-up failed", {{"error", e.what()}});
    return 1;
  }
}

}  // namespace maillon
