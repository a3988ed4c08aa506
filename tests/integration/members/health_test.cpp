// "Santé du réseau" (GET /v1/admin/health): administrators only; the figures move with what they
// count: an outbox row nobody publishes, a dead letter, a service that does not answer /metrics.
#include "services/members/health.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "harness.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

class Health : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // members answers on its own port, a second address has nothing listening (a dead service).
    dead_port = free_port();
    world = new MembersWorld("health");
    probe = new ServiceProcess(
        "members", world->env({{"MAILLON_SERVICE_URLS",
                                "members=" + world->members->url() +
                                    ",offers=http://127.0.0.1:" + std::to_string(dead_port)},
                               {"MAILLON_HEALTH_FETCH_TIMEOUT_MS", "500"}}));
    probe->start();
  }
  static void TearDownTestSuite() {
    delete probe;
    delete world;
  }

  static Json health() {
    auto r = Client(probe->url(), world->admin_token).get("/v1/admin/health");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  // The figure of that kind about that subject, or null.
  static Json figure(const Json& h, const std::string& kind, const std::string& subject) {
    for (const Json& f : h["figures"])
      if (f["kind"] == kind && f["subject"] == subject) return f;
    return nullptr;
  }
  static void sql(const std::string& statement) {
    pqxx::connection conn(world->database);
    pqxx::nontransaction tx(conn);
    tx.exec(statement);
  }

  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* probe = nullptr;
  static inline uint16_t dead_port = 0;
};

TEST_F(Health, OnlyAdministratorsSeeIt) {
  auto anonymous = Client(probe->url()).get("/v1/admin/health");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  const std::string community = world->create_community("Santé " + unique_suffix());
  const MemberInfo member = world->register_member(community, "Inès");
  auto plain = Client(probe->url(), member.token).get("/v1/admin/health");
  EXPECT_EQ(plain.status, 403) << plain.body;
}

TEST_F(Health, AnUnpublishedOutboxRowShowsItsAge) {
  Json before = health();
  ASSERT_FALSE(figure(before, "outbox_lag_seconds", "members").is_null()) << before.dump(2);
  EXPECT_EQ(figure(before, "outbox_lag_seconds", "members")["status"], "ok");
  // A schema whose relay does not run: its row stays unpublished, ten minutes old.
  sql("CREATE SCHEMA IF NOT EXISTS health_probe; "
      "CREATE TABLE IF NOT EXISTS health_probe.outbox (LIKE members.outbox INCLUDING DEFAULTS)");
  sql("INSERT INTO health_probe.outbox (event_id, stream, payload, created_at) "
      "VALUES (gen_random_uuid(), 'probe', '{}', now() - interval '10 minutes')");
  Json after = health();
  Json lag = figure(after, "outbox_lag_seconds", "health_probe");
  ASSERT_FALSE(lag.is_null()) << after.dump(2);
  EXPECT_GE(lag["value"].get<double>(), 600);
  EXPECT_EQ(lag["status"], "critical");
  EXPECT_EQ(lag["detail"], "1 événement non publié");
  EXPECT_EQ(after["status"], "critical");
  sql("UPDATE health_probe.outbox SET published_at = now()");
  EXPECT_EQ(figure(health(), "outbox_lag_seconds", "health_probe")["status"], "ok");
}

TEST_F(Health, ADeadLetterIsCritical) {
  const std::string stream = world->prefix + ":members.dead";
  Redis redis(redis_url());
  EXPECT_TRUE(figure(health(), "dead_letters", stream).is_null());
  redis.command({"XADD", stream, "*", "event", "{}", "error", "sonde du test de santé"});
  Json h = health();
  Json dead = figure(h, "dead_letters", stream);
  ASSERT_FALSE(dead.is_null()) << h.dump(2);
  EXPECT_EQ(dead["value"], 1);
  EXPECT_EQ(dead["status"], "critical");
  redis.command({"XADD", stream, "*", "event", "{}", "error", "sonde du test de santé"});
  EXPECT_EQ(figure(health(), "dead_letters", stream)["value"], 2);
  redis.command({"DEL", stream});
}

TEST_F(Health, ConsumersAndServicesAreShown) {
  Json h = health();
  // members consumes the exchanges stream with its group named after it.
  Json lag = figure(h, "consumer_lag", world->prefix + ":exchanges / maillon-members");
  ASSERT_FALSE(lag.is_null()) << h.dump(2);
  EXPECT_EQ(lag["status"], "ok");
  EXPECT_EQ(figure(h, "service_unreachable", "members")["value"], 0);
  Json latency = figure(h, "http_latency_p95_seconds", "members");
  ASSERT_FALSE(latency.is_null()) << h.dump(2);
  EXPECT_GT(latency["value"].get<double>(), 0);  // the world's requests were counted
  // The share of 5xx answers since the start, its status from its thresholds (1 % warns, 5 % is
  // critical). Not necessarily "ok": on a loaded machine the world's members service may have
  // shed a login with a 503, which counts like any 5xx.
  Json errors = figure(h, "http_5xx_ratio", "members");
  ASSERT_FALSE(errors.is_null()) << h.dump(2);
  const double ratio = errors["value"].get<double>();
  EXPECT_EQ(errors["status"], ratio < 0.01   ? "ok"
                              : ratio < 0.05 ? "warn"
                                             : "critical")
      << errors.dump();
  Json dead = figure(h, "service_unreachable", "offers");
  EXPECT_EQ(dead["value"], 1);
  EXPECT_EQ(dead["status"], "critical");
}

TEST(HealthParsing, MetricsTextGivesRequestsErrorsAndTheNinetyFifthPercentile) {
  const members::HttpFigures h = members::parse_http_metrics(
      "# TYPE maillon_http_requests_total counter\n"
      "maillon_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"200\"} 95\n"
      "maillon_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"503\"} 5\n"
      "maillon_http_request_duration_seconds_bucket{route=\"/v1/me\",le=\"0.01\"} 50\n"
      "maillon_http_request_duration_seconds_bucket{route=\"/v1/me\",le=\"0.1\"} 96\n"
      "maillon_http_request_duration_seconds_bucket{route=\"/v1/me\",le=\"+Inf\"} 100\n");
  EXPECT_EQ(h.requests, 100);
  EXPECT_EQ(h.errors_5xx, 5);
  EXPECT_EQ(h.latency_p95_seconds(), 0.1);
  EXPECT_THROW(members::parse_service_urls("offers=ftp://x"), std::invalid_argument);
  EXPECT_EQ(members::parse_service_urls("a=http://x:1/,a=http://x:2").size(), 2u);
}

}  // namespace
}  // namespace maillon::testing
