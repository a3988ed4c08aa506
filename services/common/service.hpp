// A service process: configuration, pools, HTTP, outbox relay, consumers and periodic jobs
// wired once; `main` only names the service and calls its registration function.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "services/common/auth.hpp"
#include "services/common/clock.hpp"
#include "services/common/config.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/http.hpp"
#include "services/common/metrics.hpp"
#include "services/common/redis.hpp"

namespace maillon {

using Job = std::function<void(pqxx::work&)>;

class Service {
 public:
  explicit Service(Config config);
  ~Service();

  Config config;
  // The service's only clock: handlers, consumers and jobs read "now" here and hand it to the
  // domain as an argument (tests move it through MAILLON_CLOCK_OFFSET_FILE).
  Clock clock;
  Metrics metrics;
  Db db;
  RedisPool redis;
  Outbox outbox;
  Authenticator auth;
  HttpServer http;

  // Consume a stream (logical name) with this service's consumer group.
  void consume(const std::string& stream, EventHandler handler);
  // Run `job` every `interval` in a transaction holding a transaction-level advisory lock named
  // after the job: with N replicas, one runs it at a time and none runs it twice at once.
  void every(const std::string& name, std::chrono::milliseconds interval, Job job);
  // Called once after migrations, before HTTP starts (bootstrap data such as the first admin).
  void on_start(std::function<void()> hook) { start_hooks_.push_back(std::move(hook)); }

  void start();  // migrate, then start relay, consumers, jobs and HTTP
  void stop();   // not ready, drain HTTP, stop consumers and jobs, flush the outbox
  // start(), wait for SIGTERM or SIGINT, stop(). Returns the process exit code.
  int run();
  OutboxRelay& relay() { return *relay_; }

 private:
  std::unique_ptr<OutboxRelay> relay_;
  std::vector<std::unique_ptr<StreamConsumer>> consumers_;
  struct JobEntry {
    std::string name;
    std::chrono::milliseconds interval;
    Job job;
  };
  std::vector<JobEntry> jobs_;
  std::vector<std::function<void()>> start_hooks_;
  std::thread jobs_thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> ready_{false};
  void jobs_loop();
  void add_probes();
};

// The whole of a service's main(): reads the environment, builds the Service, lets `wire`
// register routes, consumers and jobs, runs until SIGTERM. Start-up errors exit non-zero.
int run_service(const std::string& name, const std::string& schema, uint16_t default_port,
                const std::function<void(Service&)>& wire);

}  // namespace maillon
