#include "event_contract.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "json_schema.hpp"
#include "services/common/redis.hpp"

namespace maillon::testing {
namespace {

constexpr const char* kPublishedBy = "outbox";  // the relay's mark on its entries
constexpr int kPageSize = 1000;

struct Checked {
  std::mutex mutex;
  std::map<std::string, std::string> last_entry;  // stream -> last entry id checked
};

Checked& checked() {
  static Checked c;
  return c;
}

std::vector<std::string> streams_under(Redis& redis, const std::string& prefix) {
  std::vector<std::string> streams;
  std::string cursor = "0";
  do {
    auto r =
        redis.command({"SCAN", cursor, "MATCH", prefix + ":*", "COUNT", "1000", "TYPE", "stream"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2) break;
    cursor = reply_string(r->element[0]);
    for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
      std::string key = reply_string(r->element[1]->element[i]);
      if (!key.ends_with(".dead")) streams.push_back(std::move(key));
    }
  } while (cursor != "0");
  return streams;
}

std::string field_of(const redisReply* fields, const std::string& name) {
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    if (reply_string(fields->element[i]) == name) return reply_string(fields->element[i + 1]);
  }
  return {};
}

void check_entry(JsonSchemaSet& schemas, const std::string& stream, const std::string& entry,
                 const std::string& payload, std::vector<std::string>& out) {
  const auto event = nlohmann::json::parse(payload, nullptr, false);
  if (event.is_discarded() || !event.is_object() || !event.contains("type") ||
      !event["type"].is_string()) {
    out.push_back(stream + " " + entry + ": not an event envelope");
    return;
  }
  const std::string type = event["type"].get<std::string>();
  const std::string file = type + ".schema.json";
  if (!std::filesystem::exists(std::string(MAILLON_SOURCE_DIR) + "/schemas/events/" + file)) {
    out.push_back(stream + " " + entry + " " + type + ": no schema schemas/events/" + file);
    return;
  }
  for (const std::string& why : schemas.validate(file, event)) {
    out.push_back(stream + " " + entry + " " + type + ": " + why);
  }
}

}  // namespace

std::vector<std::string> event_contract_violations(const std::string& redis_url,
                                                   const std::string& prefix) {
  static JsonSchemaSet schemas(std::string(MAILLON_SOURCE_DIR) + "/schemas/events");
  std::lock_guard lock(checked().mutex);
  std::vector<std::string> out;
  Redis redis(redis_url);
  for (const std::string& stream : streams_under(redis, prefix)) {
    std::string& last = checked().last_entry[stream];
    for (;;) {
      const std::string from = last.empty() ? "-" : "(" + last;
      auto r = redis.command({"XRANGE", stream, from, "+", "COUNT", std::to_string(kPageSize)});
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0) break;
      for (std::size_t i = 0; i < r->elements; ++i) {
        const redisReply* entry = r->element[i];
        last = reply_string(entry->element[0]);
        const redisReply* fields = entry->element[1];
        if (field_of(fields, "by") != kPublishedBy) continue;  // a test's own fixture
        check_entry(schemas, stream, last, field_of(fields, "event"), out);
      }
      if (r->elements < static_cast<std::size_t>(kPageSize)) break;
    }
  }
  return out;
}

void expect_event_contract(const std::map<std::string, std::string>& service_env) {
  const auto prefix = service_env.find("MAILLON_STREAM_PREFIX");
  const auto redis = service_env.find("REDIS_URL");
  if (prefix == service_env.end() || redis == service_env.end()) return;
  std::vector<std::string> violations;
  try {
    violations = event_contract_violations(redis->second, prefix->second);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the event contract could not be checked: " << e.what();
    return;
  }
  for (const std::string& v : violations) {
    ADD_FAILURE() << "an event breaks its schema (schemas/events/): " << v;
  }
}

}  // namespace maillon::testing
