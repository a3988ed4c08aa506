// Events on Redis Streams: the envelope, the transactional outbox that writes them, the relay
// that publishes them, and the consumer loop that applies them exactly once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "services/common/config.hpp"

struct redisReply;

namespace maillon {

class Db;
class Metrics;
class Redis;

struct Event {
  std::string id;  // uuid
  std::string type;
  int version = 1;
  std::string occurred_at;
  std::string community_id;
  nlohmann::json data = nlohmann::json::object();
  std::string entry_id;  // the stream entry it came from, when read
  // Optional on the wire, so that one request can be followed through the services: the request
  // id of the HTTP call that caused it (consumers log it, and the events they write carry it on)
  // and, when tracing is on, the W3C traceparent of the span that wrote it.
  std::string request_id;
  std::string traceparent;

  std::string to_json() const;
  static std::optional<Event> parse(std::string_view text);
};

// Writes an event in the caller's transaction: it is published if and only if that transaction
// commits. `stream` is the logical name ("offers"); the prefix is applied here.
class Outbox {
 public:
  // add_written stores up to this many events in one row, one per line; the relay publishes
  // them as separate entries.
  static constexpr std::size_t kEventsPerRowMax = 4096;
  struct Written {  // an event already written as its JSON envelope (Event::to_json's form)
    std::string id;
    std::string json;
    // The request it answers, when not the thread's (a shared batch writes many callers' events
    // at once); empty: the request this thread is handling, if any.
    std::string request_id;
  };
  explicit Outbox(std::string stream_prefix) : prefix_(std::move(stream_prefix)) {}
  Event add(pqxx::work& tx, const std::string& stream, std::string type, std::string community_id,
            nlohmann::json data, const std::optional<std::string>& event_id = std::nullopt) const;
  // Many events of one stream (a batch of ledger transfers): one row per kEventsPerRowMax, so
  // that the relay reads, publishes and marks a row per batch, not one per event.
  void add_written(pqxx::work& tx, const std::string& stream,
                   const std::vector<Written>& events) const;
  // What add_written would run, as statements with their values inlined (append_literal), for a
  // writer that sends them in the same round trip as its own (the ledger's batch pipeline).
  std::vector<std::string> written_statements(const std::string& stream,
                                              const std::vector<Written>& events) const;
  const std::string& prefix() const { return prefix_; }

 private:
  // Calls row(event_id, full_stream, lines) for each outbox row of add_written.
  template <class Row>
  void for_each_written_row(const std::string& stream, const std::vector<Written>& events,
                            Row row) const;
  std::string prefix_;
};

// Publishes unpublished outbox rows in batches (FOR UPDATE SKIP LOCKED: replicas share the work),
// pipelined XADD, marked published in the same transaction. Notices a flushed Redis and
// republishes what it still holds; trims streams without dropping unacknowledged entries.
class OutboxRelay {
 public:
  OutboxRelay(const Config& config, Db& db, Metrics& metrics);
  ~OutboxRelay();
  void start();
  void stop();
  void poke();
  // One pass, for tests and for the loop: returns how many rows were published.
  int publish_batch(Redis& redis);
  // Passes of the loop completed (flush check, publication, trim): tests wait on it.
  int64_t passes() const { return passes_.load(); }

 private:
  const Config& config_;
  Db& db_;
  Metrics& metrics_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool poked_ = false;
  std::atomic<bool> running_{false};
  std::atomic<int64_t> passes_{0};
  std::set<std::string> streams_seen_;
  bool rows_left_ = false;  // the last pass stopped at its event bound: go on at once
  void loop();
  void check_flush(Redis& redis);
  void trim(Redis& redis);
  void clean_up();
};

using EventHandler = std::function<void(pqxx::work&, const Event&)>;
// The declared event types a handler acts on; empty: every type. An event of another declared
// type is acknowledged without a transaction (nothing to apply, nothing to record: a stream's
// bulk, such as transfers for a service that only follows the links, costs no commit). A type
// nobody declared still reaches the handler, to be dead-lettered with its reason.
using EventTypes = std::vector<std::string>;
// How soon a consumer reads what arrives. Prompt: at once (a saga's next step, a read model a
// request waits on). Unhurried: after a short page it waits consumer.linger_ms before reading
// again, so that a steady flow reaches it in pages: one wake, one transaction and one commit for
// many events instead of one each. For effects nobody waits on within a request (notifications,
// counters, a listing's lifecycle), and for a stream's bulk a consumer only passes over.
enum class Pace { prompt, unhurried };

// A consumer group member on one stream: re-reads its own pending entries first, reclaims
// entries of dead consumers (XAUTOCLAIM), applies each event at most once (its id recorded in
// applied_events in the same transaction as the effect; a page of events shares one
// transaction, falling back to one each when any fails), acks in batches, and sends a message
// that keeps failing to <stream>.dead.
class StreamConsumer {
 public:
  StreamConsumer(const Config& config, Db& db, Metrics& metrics, const std::string& stream,
                 EventHandler handler, EventTypes acts_on = {}, Pace pace = Pace::prompt);
  ~StreamConsumer();
  void start();
  void stop();
  // One read-and-apply pass (for tests): returns the number of entries handled.
  int poll_once(Redis& redis, int block_ms);
  const std::string& group() const { return group_; }

 private:
  const Config& config_;
  Db& db_;
  Metrics& metrics_;
  std::string stream_;  // full name with prefix
  std::string group_;
  EventHandler handler_;
  EventTypes acts_on_;
  Pace pace_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::map<std::string, int> failures_;  // entry id -> failed attempts in this process
  int64_t next_reclaim_us_ = 0;
  int64_t next_pending_us_ = 0;
  bool group_ready_ = false;
  std::vector<std::string> acks_;  // XACK of the entries handled and not acknowledged yet

  void loop();
  void ensure_group(Redis& redis);
  int handle_entries(Redis& redis, const redisReply* entries);
  int read_and_handle(Redis& redis, int block_ms);  // acknowledgements left in acks_
  void flush_acks(Redis& redis);
  bool passes_over(const Event& event) const;         // a declared type its handler does not act on
  bool apply_in(pqxx::work& tx, const Event& event);  // false: applied before
  bool apply(const Event& event);
  bool apply_all(const std::vector<Event>& events);
  void dead_letter(Redis& redis, const std::string& entry_id, const std::string& payload,
                   const std::string& why);
  int deliveries(Redis& redis, const std::string& entry_id);
};

}  // namespace maillon
