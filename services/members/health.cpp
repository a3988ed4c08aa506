// GET /v1/admin/health (health.hpp): the readings (health_sources.hpp) turned into figures with
// thresholds. The thresholds follow k8s/base/monitoring/alerts.yaml where it has one.
#include "services/members/health.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "services/common/auth.hpp"
#include "services/common/config.hpp"
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/members/health_sources.hpp"

namespace maillon::members {
namespace {

using Json = nlohmann::json;

// The port table of script/lib.sh: where script/server runs each service.
constexpr const char* kDefaultServiceUrls =
    "members=http://127.0.0.1:8081,offers=http://127.0.0.1:8082,requests=http://127.0.0.1:8083,"
    "matching=http://127.0.0.1:8084,exchange=http://127.0.0.1:8085,ledger=http://127.0.0.1:8086,"
    "depot=http://127.0.0.1:8087,notify=http://127.0.0.1:8088,media=http://127.0.0.1:8089";

constexpr std::size_t kServicesMax = 64;

struct Settings {
  std::vector<std::pair<std::string, std::string>> services;
  int64_t saga_timeout_s = 300;  // alerts.yaml's MaillonSagaStuck
  int fetch_timeout_ms = 1500;
};

// "name{labels} value" -> (name, labels, value); false for comments and malformed lines.
bool split_sample(std::string_view line, std::string_view& name, std::string_view& labels,
                  double& value) {
  if (line.empty() || line[0] == '#') return false;
  const auto space = line.rfind(' ');
  if (space == std::string_view::npos) return false;
  std::string_view head = line.substr(0, space);
  const std::string number(line.substr(space + 1));
  try {
    value = std::stod(number);
  } catch (const std::exception&) {
    return false;
  }
  const auto brace = head.find('{');
  name = head.substr(0, brace);
  labels = brace == std::string_view::npos ? std::string_view{} : head.substr(brace);
  return true;
}

std::string_view label(std::string_view labels, std::string_view key) {
  const std::string needle = std::string(key) + "=\"";
  const auto at = labels.find(needle);
  if (at == std::string_view::npos) return {};
  const auto from = at + needle.size();
  return labels.substr(from, labels.find('"', from) - from);
}

HealthFigure figure(std::string kind, std::string subject, double value, std::string unit,
                    double warn_at, double critical_at, std::string detail = "") {
  return {std::move(kind), std::move(subject), value, std::move(unit), warn_at,
          critical_at,     std::move(detail)};
}

std::string plural(int64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n > 1 ? many : one);
}

void add_database_figures(Service& s, const Settings& settings, std::vector<HealthFigure>& out) {
  try {
    for (const OutboxReading& o : read_outboxes(s.db)) {
      out.push_back(
          figure("outbox_lag_seconds", o.schema, std::round(o.oldest_seconds), "seconds", 60, 300,
                 plural(o.unpublished, "événement non publié", "événements non publiés")));
    }
    if (auto sagas = read_sagas(s.db, settings.saga_timeout_s)) {
      out.push_back(
          figure("sagas_stuck", "exchange", static_cast<double>(sagas->stuck), "exchanges", 1, 1,
                 plural(sagas->in_flight, "échange attend", "échanges attendent") +
                     " le grand livre, délai " + std::to_string(settings.saga_timeout_s) + " s"));
    }
  } catch (const std::exception& e) {
    log::warn("health: database figures unreadable", {{"error", e.what()}});
    out.push_back(figure("database_unreachable", "postgresql", 1, "instances", 1, 1,
                         "PostgreSQL ne répond pas"));
  }
}

void add_stream_figures(Service& s, std::vector<HealthFigure>& out) {
  try {
    const StreamsReading streams = read_streams(s.config.redis_url, s.config.stream_prefix);
    for (const GroupReading& g : streams.groups) {
      const std::string subject = g.stream + " / " + g.group;
      out.push_back(figure("consumer_lag", subject, static_cast<double>(g.lag), "events", 100, 1000,
                           "événements pas encore lus par ce groupe"));
      out.push_back(figure("consumer_pending", subject, static_cast<double>(g.pending), "events",
                           100, 1000, "lus mais pas encore acquittés"));
    }
    for (const DeadReading& d : streams.dead) {
      out.push_back(figure("dead_letters", d.stream, static_cast<double>(d.length), "events", 1, 1,
                           "mis de côté après des échecs répétés (XRANGE " + d.stream + " - +)"));
    }
  } catch (const std::exception& e) {
    log::warn("health: stream figures unreadable", {{"error", e.what()}});
    out.push_back(
        figure("redis_unreachable", "redis", 1, "instances", 1, 1, "Redis ne répond pas"));
  }
}

void add_http_figures(const Settings& settings, std::vector<HealthFigure>& out) {
  std::map<std::string, HttpFigures> by_service;
  std::map<std::string, std::pair<int, int>> answered;  // service -> (answered, instances)
  for (const MetricsReading& m : read_metrics(settings.services, settings.fetch_timeout_ms)) {
    auto& [ok, all] = answered[m.service];
    ++all;
    if (!m.answered) continue;
    ++ok;
    by_service[m.service].add(parse_http_metrics(m.text));
  }
  for (const auto& [service, count] : answered) {
    const auto [ok, all] = count;
    out.push_back(
        figure("service_unreachable", service, all - ok, "instances", 1, 1,
               std::to_string(ok) + " sur " + std::to_string(all) + " répond(ent) à /metrics"));
    if (ok == 0) continue;
    const HttpFigures& h = by_service[service];
    const double ratio = h.requests > 0 ? h.errors_5xx / h.requests : 0;
    out.push_back(figure("http_5xx_ratio", service, ratio, "ratio", 0.01, 0.05,
                         std::to_string(static_cast<int64_t>(h.errors_5xx)) + " sur " +
                             std::to_string(static_cast<int64_t>(h.requests)) +
                             " requêtes depuis le démarrage"));
    out.push_back(figure("http_latency_p95_seconds", service, h.latency_p95_seconds().value_or(0),
                         "seconds", 0.5, 2, "95 % des requêtes répondent en moins de ce temps"));
  }
}

Json figure_json(const HealthFigure& f) {
  Json j = {{"kind", f.kind},
            {"subject", f.subject},
            {"value", f.value},
            {"unit", f.unit},
            {"warn_at", f.warn_at},
            {"critical_at", f.critical_at},
            {"status", status_name(health_status(f))}};
  if (!f.detail.empty()) j["detail"] = f.detail;
  return j;
}

Settings read_settings() {
  Settings s;
  // "none": no service's /metrics is read from here (Kubernetes: Prometheus reads every
  // replica's, and the services do not reach one another there).
  const std::string urls = Config::text("MAILLON_SERVICE_URLS", kDefaultServiceUrls);
  if (urls != "none") s.services = parse_service_urls(urls);
  if (s.services.size() > kServicesMax)
    throw std::invalid_argument("MAILLON_SERVICE_URLS: more than 64 services");
  s.saga_timeout_s = Config::integer("MAILLON_HEALTH_SAGA_TIMEOUT_S", 300, 1, 86400);
  s.fetch_timeout_ms =
      static_cast<int>(Config::integer("MAILLON_HEALTH_FETCH_TIMEOUT_MS", 1500, 100, 30000));
  return s;
}

}  // namespace

HealthStatus health_status(const HealthFigure& f) {
  if (f.value >= f.critical_at) return HealthStatus::critical;
  if (f.value >= f.warn_at) return HealthStatus::warn;
  return HealthStatus::ok;
}

std::string_view status_name(HealthStatus status) {
  switch (status) {
    case HealthStatus::ok:
      return "ok";
    case HealthStatus::warn:
      return "warn";
    case HealthStatus::critical:
      return "critical";
  }
  return "critical";
}

std::optional<double> HttpFigures::latency_p95_seconds() const {
  if (latency_count <= 0) return std::nullopt;
  for (const auto& [le, cumulative] : latency_buckets) {
    if (cumulative >= 0.95 * latency_count) return le;
  }
  return std::nullopt;  // beyond the largest bucket: shown as +Inf is not JSON, so none
}

void HttpFigures::add(const HttpFigures& other) {
  requests += other.requests;
  errors_5xx += other.errors_5xx;
  latency_count += other.latency_count;
  for (const auto& [le, n] : other.latency_buckets) latency_buckets[le] += n;
}

HttpFigures parse_http_metrics(std::string_view text) {
  HttpFigures out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view name, labels;
    double value = 0;
    if (split_sample(text.substr(start, end - start), name, labels, value)) {
      if (name == "maillon_http_requests_total") {
        out.requests += value;
        if (label(labels, "status").starts_with("5")) out.errors_5xx += value;
      } else if (name == "maillon_http_request_duration_seconds_bucket" &&
                 !label(labels, "route").starts_with("/v1/auth/")) {
        // Sign-ups and logins hash a password (Argon2id, deliberately slow): they would hide
        // every other route's latency.
        const std::string le(label(labels, "le"));
        if (le == "+Inf") {
          out.latency_count += value;
        } else if (!le.empty()) {
          try {
            out.latency_buckets[std::stod(le)] += value;
          } catch (const std::exception&) {
          }
        }
      }
    }
    start = end + 1;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_service_urls(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      std::string url(item.substr(eq + 1));
      if (!url.starts_with("http://") && !url.starts_with("https://"))
        throw std::invalid_argument("MAILLON_SERVICE_URLS: " + url + " is not an http(s) URL");
      while (url.ends_with('/')) url.pop_back();
      out.emplace_back(std::string(item.substr(0, eq)), url);
    } else if (!item.empty()) {
      throw std::invalid_argument("MAILLON_SERVICE_URLS: expected name=url, got " +
                                  std::string(item));
    }
    start = end + 1;
  }
  return out;
}

void register_health(Service& service) {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // once, before any thread fetches
  const auto settings = std::make_shared<const Settings>(read_settings());
  service.http.route("GET", "/v1/admin/health", [&service, settings](const Request& r) {
    const Identity who = service.auth.require(r);
    if (!who.is_admin || !who.acting_staff_id.empty())
      throw forbidden("Page réservée aux administrateurs du réseau.");
    std::vector<HealthFigure> figures;
    add_database_figures(service, *settings, figures);
    add_stream_figures(service, figures);
    add_http_figures(*settings, figures);
    HealthStatus worst = HealthStatus::ok;
    Json list = Json::array();
    for (const HealthFigure& f : figures) {
      worst = std::max(worst, health_status(f));
      list.push_back(figure_json(f));
    }
    return json_response(200, {{"status", status_name(worst)},
                               {"checked_at", format_rfc3339(service.clock.now_us() / 1000000)},
                               {"figures", list}});
  });
}

}  // namespace maillon::members
