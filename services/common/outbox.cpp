// The transactional outbox and its relay.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string_view>
#include <utility>

#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/ids.hpp"
#include "services/common/job_pace.hpp"
#include "services/common/log.hpp"
#include "services/common/metrics.hpp"
#include "services/common/outbox_sql.hpp"
#include "services/common/outbox_written.hpp"
#include "services/common/redis.hpp"
#include "services/common/trace.hpp"

namespace maillon {
namespace {

// Written around its values: with parameters (add_written) or inlined (written_statements).
constexpr std::string_view kInsertOutboxOnceHead =
    "INSERT INTO outbox (event_id, stream, payload) VALUES (";
constexpr std::string_view kInsertOutboxOnceTail = ") ON CONFLICT (event_id) DO NOTHING";
// Rows of many events (Outbox::kEventsPerRowMax) are published whole; a pass stops taking rows
// past this many events, so that one pipeline of XADD stays a few megabytes.
constexpr std::size_t kEventsPerPassMax = 8192;
// Least time between two passes that found events (see OutboxRelay::loop). Measured with
// `script/load --mix exchanges --rate 40` (#22): 2 ms made a pass of nearly every commit, 37 ms of
// CPU per exchange across the stack; 8 ms, 32 ms and lower latencies everywhere (less contention
// for the two cores); 20 ms saved nothing more and lengthened accept -> accepted.
constexpr auto kPassGap = std::chrono::milliseconds(8);
// Set by the writes of this thread, cleared by take_outbox_written (outbox_written.hpp).
thread_local bool t_outbox_written = false;

// The longest an idle relay waits between two looks at its outbox (see OutboxRelay::loop).
constexpr auto kIdleWaitMax = std::chrono::milliseconds(1000);

// The request ids the gateway and the services accept (letters, digits, - and _; 64 at most):
// an event read from a stream carries one on only when it is one of those.
bool valid_request_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// The span of one event written to `stream` (the full name), a child of the thread's current
// span (the request's, or the event being applied). Empty when tracing is off.
trace::Span producer_span(const std::string& stream, const std::string& event_id,
                          std::string_view type) {
  if (!trace::enabled()) return {};
  trace::Span span("publish " + stream, trace::Kind::producer, trace::current());
  span.attribute("messaging.system", "redis");
  span.attribute("messaging.operation.type", "send");
  span.attribute("messaging.destination.name", stream);
  span.attribute("messaging.message.id", event_id);
  if (!type.empty()) span.attribute("maillon.event.type", type);
  if (!log::request_id().empty()) span.attribute("maillon.request_id", log::request_id());
  return span;
}

// An event written as its JSON (Outbox::Written) with the writing thread's request id and
// producer span added to its envelope (its last character is the envelope's closing brace).
// `request_field` is the request id's member (`,"request_id":"..."`), or empty.
void append_tagged(std::string& out, const Outbox::Written& event, const std::string& stream,
                   const std::string& request_field) {
  const std::string& json = event.json;
  if (json.empty() || json.back() != '}') {
    out += json;
    return;
  }
  out.append(json, 0, json.size() - 1);
  out += request_field;
  trace::Span span = producer_span(stream, event.id, {});
  if (span.active()) out += R"(,"traceparent":")" + span.context().traceparent() + '"';
  out += '}';
}

}  // namespace

std::string Event::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"type", type},
                      {"version", version},
                      {"occurred_at", occurred_at},
                      {"community_id", community_id.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(community_id)},
                      {"data", data}};
  if (!request_id.empty()) j["request_id"] = request_id;
  if (!traceparent.empty()) j["traceparent"] = traceparent;
  return j.dump();
}

std::optional<Event> Event::parse(std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Event e;
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto id = str("id");
  auto type = str("type");
  if (!id || !type || !j.contains("data") || !j["data"].is_object()) return std::nullopt;
  e.id = *id;
  e.type = *type;
  e.occurred_at = str("occurred_at").value_or("");
  e.community_id = str("community_id").value_or("");
  if (j.contains("version") && j["version"].is_number_integer())
    e.version = j["version"].get<int>();
  e.data = j["data"];
  // Optional: a malformed one is left out, never a reason to refuse the event.
  if (auto rid = str("request_id"); rid && valid_request_id(*rid)) e.request_id = *rid;
  if (auto tp = str("traceparent"); tp && trace::Context::parse(*tp).valid()) e.traceparent = *tp;
  return e;
}

Event Outbox::add(pqxx::work& tx, const std::string& stream, std::string type,
                  std::string community_id, nlohmann::json data,
                  const std::optional<std::string>& event_id) const {
  Event e;
  e.id = event_id.value_or(new_uuid());
  e.type = std::move(type);
  e.occurred_at = now_rfc3339();
  e.community_id = std::move(community_id);
  e.data = std::move(data);
  e.request_id = log::request_id();
  const std::string full_stream = prefix_ + ":" + stream;
  trace::Span span = producer_span(full_stream, e.id, e.type);
  if (span.active()) e.traceparent = span.context().traceparent();
  exec_cached(tx, kInsertOutbox, e.id, full_stream, e.to_json());
  t_outbox_written = true;
  return e;
}

template <class Row>
void Outbox::for_each_written_row(const std::string& stream, const std::vector<Written>& events,
                                  Row row) const {
  // Compact JSON has no raw line break: the lines are the events (split by publish_batch).
  // The row takes the first event's id; ON CONFLICT: a row written once stays written once.
  // Events written while a request or a traced event is handled carry its request id and span
  // on; an event that names its own request (a caller's transfer in a shared batch) carries that
  // one instead of the batch leader's.
  const std::string full_stream = prefix_ + ":" + stream;
  const std::string& request_id = log::request_id();
  const bool traced = trace::enabled() && trace::current().valid();
  const bool tagged = !request_id.empty() || traced ||
                      std::any_of(events.begin(), events.end(),
                                  [](const Written& w) { return !w.request_id.empty(); });
  for (std::size_t first = 0; first < events.size(); first += kEventsPerRowMax) {
    const std::size_t end = std::min(events.size(), first + kEventsPerRowMax);
    std::size_t bytes = 0;
    for (std::size_t i = first; i < end; ++i) bytes += events[i].json.size() + 1;
    std::string lines;
    lines.reserve(tagged ? bytes + (end - first) * 160 : bytes);
    // A batch's events come from a few requests: each one's member is written once.
    const std::string* field_of = nullptr;
    std::string field;
    for (std::size_t i = first; i < end; ++i) {
      if (i > first) lines += '\n';
      if (tagged) {
        const std::string& rid = events[i].request_id.empty() ? request_id : events[i].request_id;
        if (field_of == nullptr || *field_of != rid) {
          field = rid.empty() ? std::string() : R"(,"request_id":)" + nlohmann::json(rid).dump();
          field_of = &rid;
        }
        append_tagged(lines, events[i], full_stream, field);
      } else {
        lines += events[i].json;
      }
    }
    row(events[first].id, full_stream, lines);
  }
}

void Outbox::add_written(pqxx::work& tx, const std::string& stream,
                         const std::vector<Written>& events) const {
  for_each_written_row(
      stream, events,
      [&](const std::string& event_id, const std::string& full_stream, const std::string& lines) {
        static const std::string statement =
            std::string(kInsertOutboxOnceHead) + "$1, $2, $3" + std::string(kInsertOutboxOnceTail);
        exec_cached(tx, statement, event_id, full_stream, lines);
      });
  t_outbox_written = true;
}

std::vector<std::string> Outbox::written_statements(const std::string& stream,
                                                    const std::vector<Written>& events) const {
  std::vector<std::string> statements;
  for_each_written_row(
      stream, events,
      [&](const std::string& event_id, const std::string& full_stream, const std::string& lines) {
        // Written once, in place: a batch's row is a megabyte or more (#22).
        std::string statement;
        statement.reserve(kInsertOutboxOnceHead.size() + event_id.size() + full_stream.size() +
                          lines.size() + lines.size() / 64 + kInsertOutboxOnceTail.size() + 16);
        statement.append(kInsertOutboxOnceHead);
        append_literal(statement, event_id);
        statement.append(", ");
        append_literal(statement, full_stream);
        statement.append(", ");
        append_literal(statement, lines);
        statement.append(kInsertOutboxOnceTail);
        statements.push_back(std::move(statement));
      });
  t_outbox_written = true;  // for a caller that runs them in its transaction on this thread
  return statements;
}

bool take_outbox_written() {
  return std::exchange(t_outbox_written, false);
}

void mark_outbox_written() {
  t_outbox_written = true;
}

OutboxRelay::OutboxRelay(const Config& config, Db& db, Metrics& metrics)
    : config_(config), db_(db), metrics_(metrics) {
  metrics_.add_collector([this](Metrics& m) {
    try {
      auto lease = db_.acquire();
      pqxx::nontransaction tx(lease.conn());
      auto r = tx.exec(kOutboxLag);
      m.set("maillon_outbox_unpublished", "", r[0][0].as<double>());
      m.set("maillon_outbox_lag_seconds", "", r[0][1].as<double>());
    } catch (const std::exception&) {
      m.set("maillon_outbox_lag_seconds", "", -1);
    }
  });
}

OutboxRelay::~OutboxRelay() {
  stop();
}

void OutboxRelay::start() {
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void OutboxRelay::stop() {
  if (!running_.exchange(false)) return;
  poke();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_one();
}

int OutboxRelay::publish_batch(Redis& redis) {
  rows_left_ = false;
  auto lease = db_.acquire();
  // The pass's transaction is opened and closed by the statements themselves (kOpenRelayPass,
  // then COMMIT after kMarkPublished), so that a pass is two round trips. Whatever throws in
  // between leaves it open: the connection is then closed, not pooled, which rolls it back on the
  // server.
  try {
    pqxx::nontransaction tx(lease.conn());
    static const std::string select_pass(kSelectRelayPass);
    static const std::string mark_published(kMarkPublished);
    const pqxx::result rows =
        tx.exec(std::string(kOpenRelayPass) + ";\n" +
                execute_params(tx, select_pass, {std::to_string(config_.relay.batch_size)}));
    if (rows.empty()) {
      tx.exec("ROLLBACK");
      return 0;
    }
    std::vector<std::vector<std::string>> commands;
    ArrayLiteral ids;
    std::size_t events = 0;
    std::size_t taken = 0;
    for (const auto& row : rows) {
      // Bounded work per pass: rows left out stay unpublished (and unlocked at the commit).
      if (taken > 0 && events >= kEventsPerPassMax) break;
      ++taken;
      // A row holds one event, or several one per line (Outbox::add_written), published in order.
      const std::string_view payload(row[2].c_str(), row[2].size());
      for (std::size_t start = 0; start <= payload.size();) {
        const std::size_t end = std::min(payload.find('\n', start), payload.size());
        commands.push_back(
            {"XADD", row[1].c_str(), "*", "event", std::string(payload.substr(start, end - start)),
             "by", "outbox"});  // a service's word, not a test's fixture (event contract test)
        ++events;
        start = end + 1;
      }
      streams_seen_.insert(row[1].c_str());
      ids.add(row[0].as<int64_t>());
    }
    auto replies = redis.pipeline(commands);
    for (const auto& r : replies) {
      if (is_error(r.get())) throw RedisError("XADD refused: " + reply_string(r.get()));
    }
    tx.exec(execute_params(tx, mark_published, {ids.text()}) + "; COMMIT");
    metrics_.inc("maillon_outbox_published_total", "", static_cast<double>(events));
    rows_left_ = taken < rows.size();
    return static_cast<int>(taken);
  } catch (...) {
    lease.discard();  // `tx` is gone by now: the connection goes with its open transaction
    throw;
  }
}

void OutboxRelay::check_flush(Redis& redis) {
  // A marker that lives only in Redis: when it is gone, Redis lost its data (flush, restart
  // without persistence) and the streams must be rebuilt from what PostgreSQL still holds.
  std::string key = config_.stream_prefix + ":relay-epoch:" + config_.schema;
  auto r = redis.command({"SET", key, now_rfc3339(), "NX"});
  if (reply_string(r.get()) != "OK") return;
  db_.transact([](pqxx::work& tx) { tx.exec(kRepublishAll); });
  log::info("redis has no relay marker: republishing the outbox", {{"key", key}});
}

void OutboxRelay::trim(Redis& redis) {
  for (const auto& stream : streams_seen_) {
    auto len = redis.command({"XLEN", stream});
    if (!len || len->type != REDIS_REPLY_INTEGER ||
        static_cast<std::size_t>(len->integer) <= config_.relay.stream_max_length) {
      continue;
    }
    auto groups = redis.command({"XINFO", "GROUPS", stream});
    if (!groups || groups->type != REDIS_REPLY_ARRAY || groups->elements == 0) continue;
    std::string safe;
    for (std::size_t g = 0; g < groups->elements; ++g) {
      const redisReply* info = groups->element[g];
      std::string name, last;
      long long pending = 0;
      for (std::size_t k = 0; k + 1 < info->elements; k += 2) {
        std::string field = reply_string(info->element[k]);
        if (field == "name") name = reply_string(info->element[k + 1]);
        if (field == "last-delivered-id") last = reply_string(info->element[k + 1]);
        if (field == "pending") pending = info->element[k + 1]->integer;
      }
      std::string floor = last;
      if (pending > 0) {
        auto summary = redis.command({"XPENDING", stream, name});
        if (summary && summary->type == REDIS_REPLY_ARRAY && summary->elements >= 2) {
          floor = reply_string(summary->element[1]);
        }
      }
      auto less = [](const std::string& a, const std::string& b) {
        auto ms = [](const std::string& s) { return std::stoull(s.substr(0, s.find('-'))); };
        auto seq = [](const std::string& s) { return std::stoull(s.substr(s.find('-') + 1)); };
        return ms(a) != ms(b) ? ms(a) < ms(b) : seq(a) < seq(b);
      };
      if (!floor.empty() && (safe.empty() || less(floor, safe))) safe = floor;
    }
    // MINID keeps every entry at or after the oldest one some group still needs.
    if (!safe.empty()) redis.command({"XTRIM", stream, "MINID", safe});
  }
}

void OutboxRelay::clean_up() {
  db_.transact([](pqxx::work& tx) {
    tx.exec(kDeleteOld);
    tx.exec(kDeleteOldApplied);
  });
}

void OutboxRelay::loop() {
  Redis redis(config_.redis_url);
  int64_t next_check = 0, next_trim = 0, next_cleanup = 0;
  auto last_found = std::chrono::steady_clock::time_point();
  int empty_passes = 0;
  while (running_) {
    try {
      auto now = std::chrono::steady_clock::now().time_since_epoch() / std::chrono::milliseconds(1);
      if (now >= next_check) {
        check_flush(redis);
        next_check = now + 1000;
      }
      int published = publish_batch(redis);
      if (now >= next_trim) {
        trim(redis);
        next_trim = now + 10'000;
      }
      if (now >= next_cleanup) {
        clean_up();
        next_cleanup = now + 600'000;
      }
      passes_.fetch_add(1);
      if (published >= config_.relay.batch_size || rows_left_) continue;
      if (published > 0) last_found = std::chrono::steady_clock::now();
      empty_passes = published > 0 ? 0 : empty_passes + 1;
    } catch (const std::exception& e) {
      log::warn("outbox relay pass failed; retrying", {{"error", e.what()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    std::unique_lock lock(mutex_);
    // A pass that found events is followed by kPassGap without one: a busy writer commits
    // hundreds of times a second, each commit pokes, and a pass per commit (five statements and
    // a Redis round trip) cost as much as the commits themselves. The commits of the gap share
    // the next pass; an idle relay still answers the first poke at once.
    wake_.wait_until(lock, last_found + kPassGap, [&] { return !running_; });
    // Every commit of this process pokes, so the wait only bounds how late the relay sees rows
    // that nobody here committed: another replica's that died before publishing them, or a
    // restored back-up's. While passes find nothing it doubles from the configured poll
    // (interval x 10) up to kIdleWaitMax, or the poll when an operator set it longer: an idle
    // service used to ask PostgreSQL five times a second, in every process, for nothing.
    const auto poll = std::chrono::milliseconds(int64_t{config_.relay.interval_ms} * 10);
    wake_.wait_for(lock, doubled(poll, std::max(empty_passes - 1, 0), kIdleWaitMax),
                   [&] { return poked_ || !running_; });
    poked_ = false;
  }
  // Drain what was committed before the stop, so a graceful stop leaves nothing behind.
  try {
    while (publish_batch(redis) > 0) {
    }
  } catch (const std::exception& e) {
    log::warn("outbox relay final drain failed", {{"error", e.what()}});
  }
}

}  // namespace maillon
