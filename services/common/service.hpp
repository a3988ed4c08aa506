// A service process: configuration, pools, HTTP, outbox relay, consumers and periodic jobs
// wired once; `main` only names the service and calls its registration function.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "services/common/auth.hpp"
#include "services/common/clock.hpp"
#include "services/common/config.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/http.hpp"
#include "services/common/metrics.hpp"
#include "services/common/redis.hpp"
#include "services/common/run_service.hpp"

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

  // Consume a stream (logical name) with this service's consumer group; `acts_on`, when given,
  // the declared event types the handler acts on (the others cost no transaction: EventTypes);
  // `pace`, how soon it reads what arrives (Pace).
  void consume(const std::string& stream, EventHandler handler, EventTypes acts_on = {},
               Pace pace = Pace::prompt);
  // Run `job` every `interval` in a transaction holding a transaction-level advisory lock named
  // after the job: with N replicas, one runs it at a time and none runs it twice at once.
  void every(const std::string& name, std::chrono::milliseconds interval, Job job);
  // Called once after migrations, before HTTP starts (bootstrap data such as the first admin).
  void on_start(std::function<void()> hook);

  void start();  // migrate, then start relay, consumers, jobs and HTTP
  void stop();   // not ready, drain HTTP, stop consumers and jobs, flush the outbox
  // start(), wait for SIGTERM or SIGINT, stop(). Returns the process exit code.
  int run();
  OutboxRelay& relay();

 private:
  // The relay, consumers, jobs and their thread (service.cpp): no user of Service sees them.
  struct Runtime;
  std::unique_ptr<Runtime> runtime_;
  void jobs_loop();
  void add_probes();
};

// What every API class of a service holds: the service (its auth, its HTTP server) and the use
// cases its handlers call, built from `args`. The class binds its handlers with RouteBinder.
template <class UseCases>
class ServiceApi {
 protected:
  template <class... Args>
  explicit ServiceApi(Service& s, Args&&... args) : s_(s), uc_(std::forward<Args>(args)...) {}

  Service& s_;
  UseCases uc_;
};

}  // namespace maillon
