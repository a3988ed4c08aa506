// The readings behind the health figures (health.hpp), one function per source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace maillon {
class Db;
}

namespace maillon::members {

struct OutboxReading {
  std::string schema;
  int64_t unpublished = 0;
  double oldest_seconds = 0;  // 0 when nothing waits
};

struct SagaReading {
  int64_t stuck = 0;  // waiting on the ledger for longer than the timeout
  int64_t in_flight = 0;
};

struct GroupReading {
  std::string stream;
  std::string group;
  int64_t lag = 0;      // entries not yet delivered to the group
  int64_t pending = 0;  // delivered, not yet acknowledged
};

struct DeadReading {
  std::string stream;  // <prefix>:<name>.dead
  int64_t length = 0;
};

struct StreamsReading {
  std::vector<GroupReading> groups;
  std::vector<DeadReading> dead;
};

struct MetricsReading {
  std::string service;
  std::string url;
  bool answered = false;
  std::string text;
};

// Every schema of the database that has an outbox (a service's, whichever services exist).
std::vector<OutboxReading> read_outboxes(Db& db);
// None when the database has no exchange schema.
std::optional<SagaReading> read_sagas(Db& db, int64_t timeout_s);
// The streams under `prefix`; throws RedisError when Redis does not answer.
StreamsReading read_streams(const std::string& redis_url, const std::string& prefix);
// GET <url>/metrics of each (name, url), all at once, each within timeout_ms.
std::vector<MetricsReading> read_metrics(
    const std::vector<std::pair<std::string, std::string>>& services, int timeout_ms);

}  // namespace maillon::members
