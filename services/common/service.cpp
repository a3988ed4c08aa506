// Service lifecycle and probes.
#include "services/common/service.hpp"

#include <signal.h>

#include <nlohmann/json.hpp>

#include "services/common/errors.hpp"
#include "services/common/log.hpp"
#include "services/common/run_service.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {
namespace {

HttpOptions http_options(const Config& c) {
  HttpOptions o;
  o.bind_address = c.bind_address;
  o.port = c.port;
  o.reactor_threads = c.http_threads;
  o.worker_threads = c.worker_threads;
  o.body_limit_bytes = c.body_limit_bytes;
  o.rate_limit_per_second = c.rate_limit_per_second;
  o.rate_limit_burst = c.rate_limit_burst;
  o.trusted_proxies = *TrustedProxies::parse(c.trusted_proxies);
  o.password_threads = c.password_threads;
  o.password_queue_limit = static_cast<std::size_t>(c.password_queue_limit);
  return o;
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
      relay_(std::make_unique<OutboxRelay>(config, db, metrics)) {
  log::set_service(config.service_name);
  db.on_commit([this] { relay_->poke(); });
  add_probes();
}

Service::~Service() {
  stop();
}

void Service::add_probes() {
  http.route("GET", "/healthz",
             [](const Request&) { return Response::json_text(200, R"({"status":"ok"})"); });
  http.route("GET", "/readyz", [this](const Request&) {
    bool db_ok = db.ping();
    bool redis_ok = redis.with([](Redis& r) { return r.ping(); });
    bool ok = ready_ && db_ok && redis_ok;
    nlohmann::json body = {{"status", ok ? "ready" : "not-ready"},
                           {"postgresql", db_ok ? "ok" : "down"},
                           {"redis", redis_ok ? "ok" : "down"},
                           {"accepting", ready_.load()}};
    return Response::json_text(ok ? 200 : 503, body.dump());
  });
  http.route("GET", "/metrics", [this](const Request&) {
    metrics.set("maillon_db_retries_total", "", static_cast<double>(db.retries()));
    return Response::text(200, metrics.render(), "text/plain; version=0.0.4");
  });
}

void Service::consume(const std::string& stream, EventHandler handler) {
  // An event type nobody declared is dead-lettered with its reason before any handler runs.
  EventHandler typed = [h = std::move(handler)](pqxx::work& tx, const Event& e) {
    require_declared(e);
    h(tx, e);
  };
  consumers_.push_back(
      std::make_unique<StreamConsumer>(config, db, metrics, stream, std::move(typed)));
}

void Service::every(const std::string& name, std::chrono::milliseconds interval, Job job) {
  jobs_.push_back(JobEntry{name, interval, std::move(job)});
}

void Service::jobs_loop() {
  std::vector<std::chrono::steady_clock::time_point> due(jobs_.size(),
                                                         std::chrono::steady_clock::now());
  while (running_) {
    auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < jobs_.size() && running_; ++i) {
      if (now < due[i]) continue;
      due[i] = now + jobs_[i].interval;
      try {
        db.transact([&](pqxx::work& tx) {
          auto got = tx.exec_params("SELECT pg_try_advisory_xact_lock(hashtext($1))",
                                    config.schema + ":" + jobs_[i].name);
          if (got[0][0].as<bool>()) jobs_[i].job(tx);
        });
      } catch (const std::exception& e) {
        log::warn("periodic job failed", {{"job", jobs_[i].name}, {"error", e.what()}});
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Service::start() {
  migrate(db, config.schemas_dir);
  for (auto& hook : start_hooks_) hook();
  auth.start();
  relay_->start();
  for (auto& c : consumers_) c->start();
  running_ = true;
  if (!jobs_.empty()) jobs_thread_ = std::thread([this] { jobs_loop(); });
  http.start();
  ready_ = true;
  log::info("service started", {{"port", std::to_string(http.port())}});
}

void Service::stop() {
  if (!running_.exchange(false)) return;
  ready_ = false;
  http.shutdown();
  for (auto& c : consumers_) c->stop();
  if (jobs_thread_.joinable()) jobs_thread_.join();
  relay_->stop();
  auth.stop();
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
  log::set_service(std::string("maillon-") + name);
  try {
    auto service = std::make_unique<Service>(
        Config::from_env(std::string("maillon-") + name, schema, default_port));
    wire(*service);
    return service->run();
  } catch (const std::exception& e) {
    log::error("start-up failed", {{"error", e.what()}});
    return 1;
  }
}

}  // namespace maillon
