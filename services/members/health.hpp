// "Santé du réseau": GET /v1/admin/health shows administrators the figures the Kubernetes alerts
// watch (k8s/base/monitoring/alerts.yaml), for an install that has no Prometheus (the one-machine
// install, script/server): outbox lag per schema, consumer lag and pending entries per stream,
// dead letters, sagas stuck past their timeout, and each service's 5xx ratio and latency read
// from its /metrics. Each figure carries its thresholds and a status (ok, warn, critical).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maillon {
class Service;
}

namespace maillon::members {

enum class HealthStatus { ok, warn, critical };

struct HealthFigure {
  std::string kind;     // outbox_lag_seconds, consumer_lag, dead_letters, ...
  std::string subject;  // the schema, stream or service it is about
  double value = 0;
  std::string unit;  // seconds, events, exchanges, ratio, instances
  double warn_at = 0;
  double critical_at = 0;
  std::string detail;  // French, for the page
};

// ok below warn_at, warn from warn_at, critical from critical_at.
HealthStatus health_status(const HealthFigure& figure);
std::string_view status_name(HealthStatus status);

// What one service's /metrics says about its HTTP side (every route together).
struct HttpFigures {
  double requests = 0;
  double errors_5xx = 0;
  std::map<double, double> latency_buckets;  // le (seconds) -> requests at most that long
  double latency_count = 0;
  std::optional<double> latency_p95_seconds() const;  // none before the first request
  void add(const HttpFigures& other);
};

// Reads the Prometheus text exposition of one process (pure: no I/O).
HttpFigures parse_http_metrics(std::string_view text);

// MAILLON_SERVICE_URLS: "name=http://host:port,..." (a name repeats for its replicas). Pure.
std::vector<std::pair<std::string, std::string>> parse_service_urls(std::string_view text);

void register_health(Service& service);

}  // namespace maillon::members
