// Server-Sent Events for many held-open streams at once: one dispatcher thread per hub asks a
// service-provided fetch what is new for every open stream, writes it, sends heartbeats and
// ends streams whose client left or whose lifetime is over. No worker thread is held per stream.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "services/common/http.hpp"

namespace maillon {

struct SseEvent {
  int64_t id = 0;  // increasing per key: what the client sends back as Last-Event-ID
  std::string type;
  std::string data;  // one line (JSON): SSE ends a data field at a newline
};

// The text/event-stream form of one event.
std::string sse_format(const SseEvent& event);

struct SseOptions {
  std::size_t streams_max = 256;  // per process; beyond it 503
  std::chrono::milliseconds poll_interval{500};
  std::chrono::seconds heartbeat_interval{15};  // proxies close connections silent for long
  std::chrono::seconds lifetime_max = kStreamLifetimeMax;
  int retry_ms = 3000;  // EventSource's reconnection delay
  int batch_max = 100;  // events per key and poll: a long backlog drains over a few polls
  // Whether a stream's session (SseHub::open's `session`) still stands: asked before each
  // delivery to that stream and every session_check_interval, on the dispatcher thread. A stream
  // whose session ended (logout, suspension, erasure, expiry), or that cannot be checked (it
  // throws), is closed: nothing more reaches it. Unset: streams are not checked.
  std::function<bool(const std::string& session)> session_alive;
  std::chrono::seconds session_check_interval{5};
};

class SseHub {
 public:
  struct Cursor {
    std::string key;
    int64_t after_id = 0;
  };
  // For each cursor, the events of its key with an id above after_id, in increasing id order, at
  // most batch_max per key. Runs on the dispatcher thread only, once per poll with streams open;
  // throwing skips that poll (the next one tries again).
  using Fetch = std::function<std::vector<std::pair<std::string, SseEvent>>(
      const std::vector<Cursor>& cursors, int batch_max)>;

  SseHub(SseOptions options, Fetch fetch);
  ~SseHub();  // ends the streams still open, joins the dispatcher
  SseHub(const SseHub&) = delete;
  SseHub& operator=(const SseHub&) = delete;

  // A held-open text/event-stream for `key` that delivers every event after `after_id`, for as
  // long as `session` stands (SseOptions::session_alive; "" for none to check).
  // Throws a 503 ApiError when streams_max streams are already open.
  Response open(const std::string& key, int64_t after_id, const std::string& session = "");
  std::size_t open_streams() const;
  const SseOptions& options() const { return options_; }

 private:
  struct Subscriber;
  // A stream just opened: its first line written, then handed to the dispatcher.
  void enlist(std::unique_ptr<Subscriber> subscriber);
  void run();
  void poll_once();
  void deliver(const std::vector<std::pair<std::string, SseEvent>>& events);
  void maintain(std::chrono::steady_clock::time_point now);
  // False (and the stream closed) when its session no longer stands.
  bool session_stands(Subscriber& subscriber, std::chrono::steady_clock::time_point now);

  SseOptions options_;
  Fetch fetch_;
  std::shared_ptr<std::atomic<std::size_t>> admitted_;  // streams admitted and not yet ended
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Subscriber>> incoming_;     // guarded by mutex_
  std::vector<std::unique_ptr<Subscriber>> subscribers_;  // the dispatcher thread's own
  std::thread thread_;
};

}  // namespace maillon
