// Where the health figures come from (health.hpp): PostgreSQL (every schema's outbox, the
// exchanges waiting on the ledger), Redis (consumer groups, dead-letter streams) and each
// service's /metrics. Each source is read on its own: one that fails becomes a critical figure,
// the others still show.
#include "services/members/health_sources.hpp"

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <future>

#include "services/common/db.hpp"
#include "services/common/redis.hpp"
#include "services/members/health_sources_sql.hpp"

namespace maillon::members {
namespace {

constexpr int kScanRoundsMax = 200;  // 200 x 500 keys: far more streams than Maillon has
constexpr std::size_t kMetricsBytesMax = 4 * 1024 * 1024;

std::string with_schema(std::string_view sql, const std::string& quoted) {
  std::string out(sql);
  out.replace(out.find("{}"), 2, quoted);
  return out;
}

int64_t integer_field(const redisReply* info, std::string_view name) {
  for (std::size_t k = 0; k + 1 < info->elements; k += 2) {
    if (reply_string(info->element[k]) != name) continue;
    const redisReply* v = info->element[k + 1];
    return v->type == REDIS_REPLY_INTEGER ? v->integer : 0;
  }
  return 0;
}

std::vector<std::string> scan_streams(Redis& redis, const std::string& prefix) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  for (int round = 0; round < kScanRoundsMax; ++round) {
    auto r =
        redis.command({"SCAN", cursor, "MATCH", prefix + ":*", "TYPE", "stream", "COUNT", "500"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
      throw RedisError("SCAN: unexpected reply");
    cursor = reply_string(r->element[0]);
    for (std::size_t i = 0; i < r->element[1]->elements; ++i)
      keys.push_back(reply_string(r->element[1]->element[i]));
    if (cursor == "0") break;
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

void read_groups(Redis& redis, const std::string& stream, StreamsReading& out) {
  auto groups = redis.command({"XINFO", "GROUPS", stream});
  if (!groups || groups->type != REDIS_REPLY_ARRAY) return;
  for (std::size_t g = 0; g < groups->elements; ++g) {
    const redisReply* info = groups->element[g];
    std::string name;
    for (std::size_t k = 0; k + 1 < info->elements; k += 2)
      if (reply_string(info->element[k]) == "name") name = reply_string(info->element[k + 1]);
    out.groups.push_back(
        {stream, name, integer_field(info, "lag"), integer_field(info, "pending")});
  }
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * count > kMetricsBytesMax) return 0;  // aborts the transfer
  body->append(data, size * count);
  return size * count;
}

}  // namespace

std::vector<OutboxReading> read_outboxes(Db& db) {
  return db.transact([](pqxx::work& tx) {
    std::vector<OutboxReading> out;
    for (const auto& row : tx.exec(kOutboxSchemas)) {
      const std::string schema = row[0].as<std::string>();
      auto r = tx.exec(with_schema(kOutboxLagOf, tx.quote_name(schema)));
      out.push_back({schema, r[0][0].as<int64_t>(), r[0][1].as<double>()});
    }
    return out;
  });
}

std::optional<SagaReading> read_sagas(Db& db, int64_t timeout_s) {
  return db.transact([&](pqxx::work& tx) -> std::optional<SagaReading> {
    if (!tx.exec1(kExchangesTable)[0].as<bool>()) return std::nullopt;  // no exchange service
    auto r = tx.exec_params1(kSagasStuck, timeout_s);
    return SagaReading{r[0].as<int64_t>(), r[1].as<int64_t>()};
  });
}

StreamsReading read_streams(const std::string& redis_url, const std::string& prefix) {
  Redis redis(redis_url, 1000);
  StreamsReading out;
  for (const std::string& key : scan_streams(redis, prefix)) {
    if (key.size() > 5 && key.ends_with(".dead")) {
      auto len = redis.command({"XLEN", key});
      out.dead.push_back({key, len && len->type == REDIS_REPLY_INTEGER ? len->integer : 0});
    } else {
      read_groups(redis, key, out);
    }
  }
  return out;
}

std::vector<MetricsReading> read_metrics(
    const std::vector<std::pair<std::string, std::string>>& services, int timeout_ms) {
  // In parallel: a paused service costs one timeout, not one per service.
  std::vector<std::future<MetricsReading>> pending;
  pending.reserve(services.size());
  for (const auto& service : services) {
    pending.push_back(
        std::async(std::launch::async, [name = service.first, url = service.second, timeout_ms] {
          MetricsReading reading{name, url, false, ""};
          std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                   &curl_easy_cleanup);
          if (!curl) return reading;
          const std::string target = url + "/metrics";
          curl_easy_setopt(curl.get(), CURLOPT_URL, target.c_str());
          curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
          curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
          curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
          curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &append_body);
          curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reading.text);
          long status = 0;
          if (curl_easy_perform(curl.get()) == CURLE_OK) {
            curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
            reading.answered = status == 200;
          }
          return reading;
        }));
  }
  std::vector<MetricsReading> out;
  out.reserve(pending.size());
  for (auto& f : pending) out.push_back(f.get());
  return out;
}

}  // namespace maillon::members
