// The one consumer loop every service uses for the streams it reads.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_set>

#include "services/common/consumer_sql.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/http.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/metrics.hpp"
#include "services/common/redis.hpp"
#include "services/common/text.hpp"
#include "services/common/trace.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {
namespace {

constexpr int64_t kPendingSweepUs = 1'000'000;  // failed entries are retried about once a second

// An entry of XREADGROUP / XAUTOCLAIM: [id, [field, value, ...]]; returns the "event" value.
std::string entry_payload(const redisReply* entry) {
  if (!entry || entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) return {};
  const redisReply* fields = entry->element[1];
  if (!fields || fields->type != REDIS_REPLY_ARRAY) return {};
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
    if (reply_string(fields->element[i]) == "event") return reply_string(fields->element[i + 1]);
  }
  return {};
}

// While one event is applied: its request id in every log line (and in the events its handler
// writes), and, traced, its consumer span current, a child of the span that wrote the event.
class Applying {
 public:
  Applying(const Event& event, const std::string& stream) {
    log::set_request_id(event.request_id);
    if (!trace::enabled()) return;
    span_ = trace::Span("process " + stream, trace::Kind::consumer,
                        trace::Context::parse(event.traceparent));
    span_.attribute("messaging.system", "redis");
    span_.attribute("messaging.operation.type", "process");
    span_.attribute("messaging.destination.name", stream);
    span_.attribute("messaging.message.id", event.id);
    span_.attribute("maillon.event.type", event.type);
    if (!event.request_id.empty()) span_.attribute("maillon.request_id", event.request_id);
    scope_.emplace(span_.context());
  }
  ~Applying() { log::set_request_id(""); }
  Applying(const Applying&) = delete;
  Applying& operator=(const Applying&) = delete;
  void failed(const char* why) { span_.error(why); }

 private:
  trace::Span span_;
  std::optional<trace::Scope> scope_;
};

// Runs `handler` on `event` (recorded as applied in `tx` already), inside its span.
void run_handler(const EventHandler& handler, pqxx::work& tx, const Event& event,
                 const std::string& stream) {
  Applying applying(event, stream);
  try {
    handler(tx, event);
  } catch (const std::exception& e) {
    applying.failed(e.what());
    throw;
  }
}

// Records events (a page, or one) as applied by `group`, in one statement whatever their number;
// returns the ids (lower case, as PostgreSQL writes a uuid) of those not applied before.
std::unordered_set<std::string> record_applied(pqxx::work& tx, const std::string& group,
                                               const std::vector<std::string>& ids) {
  std::unordered_set<std::string> fresh;
  for (const auto& row : exec_cached(tx, kRecordApplied, group, array_literal(ids))) {
    fresh.insert(row[0].c_str());
  }
  return fresh;
}

// `command` (a read), with `acks` (an XACK, when it names entries) in the same round trip.
RedisReply read_acking(Redis& redis, std::vector<std::string>& acks,
                       const std::vector<std::string>& command) {
  if (acks.size() <= 3) return redis.command(command);
  auto replies = redis.pipeline({acks, command});
  acks.clear();
  return std::move(replies[1]);
}

// One line per event applied, with the request id it carries: what a consumer did for a request.
void log_applied(const std::string& stream, const Event& event) {
  log::set_request_id(event.request_id);
  log::info("event applied", {{"stream", stream},
                              {"type", event.type},
                              {"event_id", event.id},
                              {"entry", event.entry_id}});
  log::set_request_id("");
}

}  // namespace

StreamConsumer::StreamConsumer(const Config& config, Db& db, Metrics& metrics,
                               const std::string& stream, EventHandler handler, EventTypes acts_on,
                               Pace pace)
    : config_(config),
      db_(db),
      metrics_(metrics),
      stream_(config.stream(stream)),
      group_(config.service_name),
      handler_(std::move(handler)),
      acts_on_(std::move(acts_on)),
      pace_(pace) {
  metrics_.add_collector([this](Metrics& m) {
    try {
      Redis redis(config_.redis_url, 500);
      auto groups = redis.command({"XINFO", "GROUPS", stream_});
      if (!groups || groups->type != REDIS_REPLY_ARRAY) return;
      for (std::size_t g = 0; g < groups->elements; ++g) {
        const redisReply* info = groups->element[g];
        std::string name;
        double lag = 0, pending = 0;
        for (std::size_t k = 0; k + 1 < info->elements; k += 2) {
          std::string field = reply_string(info->element[k]);
          if (field == "name") name = reply_string(info->element[k + 1]);
          if (field == "lag" && info->element[k + 1]->type == REDIS_REPLY_INTEGER)
            lag = info->element[k + 1]->integer;
          if (field == "pending") pending = info->element[k + 1]->integer;
        }
        if (name != group_) continue;
        m.set("maillon_consumer_lag", "stream=\"" + stream_ + "\"", lag);
        m.set("maillon_consumer_pending", "stream=\"" + stream_ + "\"", pending);
      }
    } catch (const std::exception&) {
      m.set("maillon_consumer_lag", "stream=\"" + stream_ + "\"", -1);
    }
  });
}

StreamConsumer::~StreamConsumer() {
  stop();
}

void StreamConsumer::start() {
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void StreamConsumer::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

void StreamConsumer::ensure_group(Redis& redis) {
  // From "0": a new group (or one recreated after Redis lost its data) reads the whole stream;
  // events already applied are skipped by their ids.
  auto r = redis.command({"XGROUP", "CREATE", stream_, group_, "0", "MKSTREAM"});
  if (is_error(r.get()) && reply_string(r.get()).rfind("BUSYGROUP", 0) != 0) {
    throw RedisError("XGROUP CREATE failed: " + reply_string(r.get()));
  }
  // Which types this group acts on, beside its stream (<stream>.acts-on, one field per group):
  // whoever checks that every acknowledged entry was applied (script/chaos) passes over the
  // others as this consumer does. No field: every type.
  const std::string acts_on_key = stream_ + ".acts-on";
  if (acts_on_.empty()) {
    redis.command({"HDEL", acts_on_key, group_});
  } else {
    std::string types;
    for (const std::string& type : acts_on_) types += (types.empty() ? "" : " ") + type;
    redis.command({"HSET", acts_on_key, group_, types});
  }
  group_ready_ = true;
}

bool StreamConsumer::passes_over(const Event& event) const {
  return !acts_on_.empty() &&
         std::find(acts_on_.begin(), acts_on_.end(), event.type) == acts_on_.end() &&
         is_declared_event_type(event.type);
}

bool StreamConsumer::apply_in(pqxx::work& tx, const Event& event) {
  // Already applied: a redelivery changes nothing.
  if (record_applied(tx, group_, {event.id}).empty()) return false;
  run_handler(handler_, tx, event, stream_);
  return true;
}

bool StreamConsumer::apply(const Event& event) {
  return db_.transact([&](pqxx::work& tx) { return apply_in(tx, event); });
}

int StreamConsumer::deliveries(Redis& redis, const std::string& entry_id) {
  auto r = redis.command({"XPENDING", stream_, group_, "IDLE", "0", entry_id, entry_id, "1"});
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0) return 0;
  const redisReply* row = r->element[0];
  if (row->type != REDIS_REPLY_ARRAY || row->elements < 4) return 0;
  return static_cast<int>(row->element[3]->integer);
}

void StreamConsumer::dead_letter(Redis& redis, const std::string& entry_id,
                                 const std::string& payload, const std::string& why) {
  redis.command({"XADD", stream_ + ".dead", "*", "event", payload, "error", why, "entry", entry_id,
                 "group", group_});
  metrics_.inc("maillon_dead_letters_total", "stream=\"" + stream_ + "\"");
  log::error("message sent to the dead-letter stream",
             {{"stream", stream_}, {"entry", entry_id}, {"error", why}});
}

// Applies every event of the page in ONE transaction (one commit, one fsync, for up to
// consumer.batch_size events), all of them recorded as applied by one statement: under a steady
// flow this is what keeps a consumer ahead of its stream. Returns false, with nothing committed,
// when any event fails: the caller then applies them one transaction each, so one bad event costs
// its neighbours a retry, never their effect.
bool StreamConsumer::apply_all(const std::vector<Event>& events) {
  try {
    db_.transact([&](pqxx::work& tx) {
      std::vector<std::string> ids;
      ids.reserve(events.size());
      for (const Event& event : events) ids.push_back(event.id);
      std::unordered_set<std::string> fresh = record_applied(tx, group_, ids);
      for (const Event& event : events) {
        // Applied before (a redelivery), or already earlier in this page: nothing to do.
        if (fresh.erase(lowercase_ascii(event.id)) == 0) continue;
        run_handler(handler_, tx, event, stream_);
      }
    });
    return true;
  } catch (const std::exception& e) {
    log::info(
        "a page of events failed together; applying them one by one",
        {{"stream", stream_}, {"events", std::to_string(events.size())}, {"error", e.what()}});
    return false;
  }
}

int StreamConsumer::handle_entries(Redis& redis, const redisReply* entries) {
  if (!entries || entries->type != REDIS_REPLY_ARRAY) return 0;
  // Sent with the next read (read_and_handle) or by flush_acks: an entry whose acknowledgement is
  // lost with the process is delivered again, and applied_events makes that change nothing.
  if (acks_.empty()) acks_ = {"XACK", stream_, group_};
  std::vector<std::string>& acks = acks_;
  std::vector<Event> events;
  std::vector<std::string> payloads;
  double passed_over = 0;
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    if (!entry || entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) continue;
    std::string id = reply_string(entry->element[0]);
    std::string payload = entry_payload(entry);
    auto event = Event::parse(payload);
    if (!event || !is_uuid(event->id)) {
      dead_letter(redis, id, payload, "enveloppe d'événement invalide");
      acks.push_back(id);
      continue;
    }
    if (passes_over(*event)) {
      failures_.erase(id);
      acks.push_back(id);
      ++passed_over;
      continue;
    }
    event->entry_id = id;
    events.push_back(std::move(*event));
    payloads.push_back(std::move(payload));
  }
  if (events.size() > 1 && apply_all(events)) {
    for (const Event& event : events) {
      failures_.erase(event.entry_id);
      acks.push_back(event.entry_id);
      log_applied(stream_, event);
    }
    metrics_.inc("maillon_events_applied_total", "stream=\"" + stream_ + "\"",
                 static_cast<double>(events.size()));
    events.clear();
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string& id = events[i].entry_id;
    try {
      if (apply(events[i])) log_applied(stream_, events[i]);
      failures_.erase(id);
      acks.push_back(id);
      metrics_.inc("maillon_events_applied_total", "stream=\"" + stream_ + "\"");
    } catch (const BadEvent& e) {
      // Unreadable as its declared type (or not declared): a retry reads the same, so it goes
      // to the dead-letter stream at once, its transaction (and any effect) rolled back.
      dead_letter(redis, id, payloads[i], e.what());
      failures_.erase(id);
      acks.push_back(id);
    } catch (const std::exception& e) {
      int attempts = std::max(++failures_[id], deliveries(redis, id));
      log::set_request_id(events[i].request_id);
      log::warn("event handler failed", {{"stream", stream_},
                                         {"entry", id},
                                         {"error", e.what()},
                                         {"attempt", std::to_string(attempts)}});
      log::set_request_id("");
      if (attempts >= config_.consumer.max_deliveries) {
        dead_letter(redis, id, payloads[i], e.what());
        failures_.erase(id);
        acks.push_back(id);
      } else {
        next_pending_us_ = monotonic_us() + kPendingSweepUs;
      }
    }
  }
  if (passed_over > 0)
    metrics_.inc("maillon_events_passed_over_total", "stream=\"" + stream_ + "\"", passed_over);
  return static_cast<int>(entries->elements);
}

void StreamConsumer::flush_acks(Redis& redis) {
  if (acks_.size() > 3) redis.command(acks_);
  acks_.clear();
}

int StreamConsumer::poll_once(Redis& redis, int block_ms) {
  const int handled = read_and_handle(redis, block_ms);
  flush_acks(redis);
  return handled;
}

int StreamConsumer::read_and_handle(Redis& redis, int block_ms) {
  if (!group_ready_) ensure_group(redis);
  const std::string count = std::to_string(config_.consumer.batch_size);
  int64_t now = monotonic_us();
  RedisReply reply;
  const redisReply* entries = nullptr;
  if (now >= next_reclaim_us_) {
    // Entries idle too long belong to a consumer that died: take them over.
    next_reclaim_us_ =
        now + std::clamp<int64_t>(config_.consumer.reclaim_idle_ms * 500LL, 200'000, 10'000'000);
    reply = read_acking(redis, acks_,
                        {"XAUTOCLAIM", stream_, group_, config_.consumer.name,
                         std::to_string(config_.consumer.reclaim_idle_ms), "0-0", "COUNT", count});
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2)
      entries = reply->element[1];
  } else if (next_pending_us_ != 0 && now >= next_pending_us_) {
    next_pending_us_ = 0;  // our own pending entries (failed ones, or left by our last run)
    reply = read_acking(redis, acks_,
                        {"XREADGROUP", "GROUP", group_, config_.consumer.name, "COUNT", count,
                         "STREAMS", stream_, "0"});
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
        reply->element[0]->elements >= 2 &&
        reply->element[0]->element[1]->elements >=
            static_cast<std::size_t>(config_.consumer.batch_size)) {
      next_pending_us_ = now;  // a full page: there may be more of ours to re-read
    }
  } else {
    reply = read_acking(redis, acks_,
                        {"XREADGROUP", "GROUP", group_, config_.consumer.name, "COUNT", count,
                         "BLOCK", std::to_string(block_ms), "STREAMS", stream_, ">"});
  }
  if (is_error(reply.get())) {
    if (reply_string(reply.get()).rfind("NOGROUP", 0) == 0) group_ready_ = false;
    throw RedisError(reply_string(reply.get()));
  }
  if (!entries && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
    const redisReply* stream = reply->element[0];
    if (stream->type == REDIS_REPLY_ARRAY && stream->elements >= 2) entries = stream->element[1];
  }
  return handle_entries(redis, entries);
}

void StreamConsumer::loop() {
  Redis redis(config_.redis_url, config_.consumer.block_ms + 3000);
  next_pending_us_ = monotonic_us();  // first re-read what this consumer left unacknowledged
  while (running_) {
    try {
      const int read = read_and_handle(redis, config_.consumer.block_ms);
      // A short page, unhurried: let the stream fill (Pace). A full one: more is waiting, read on;
      // none: the blocking read already waits for the next entry, which is then read at once.
      if (pace_ == Pace::unhurried && config_.consumer.linger_ms > 0 && read > 0 &&
          read < config_.consumer.batch_size) {
        std::this_thread::sleep_for(std::chrono::milliseconds(config_.consumer.linger_ms));
      }
    } catch (const std::exception& e) {
      log::warn("stream consumer pass failed; retrying",
                {{"stream", stream_}, {"error", e.what()}});
      acks_.clear();  // their entries stay pending: delivered again, to change nothing
      group_ready_ = false;
      next_pending_us_ = monotonic_us();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  try {
    flush_acks(redis);
  } catch (const std::exception& e) {
    log::warn("stream consumer's last acknowledgements failed",
              {{"stream", stream_}, {"error", e.what()}});
  }
}

}  // namespace maillon
