// The SSE dispatcher: admission up to a bound, one thread that polls, writes and sends
// heartbeats for every open stream, and the text/event-stream wire format.
#include "services/common/sse.hpp"

#include <map>

#include "services/common/errors.hpp"
#include "services/common/log.hpp"

namespace maillon {
namespace {

using SteadyClock = std::chrono::steady_clock;

// One admitted stream, counted from the handler's answer until the stream ends (or until its
// response is dropped unsent): the bound holds however a stream ends.
class Ticket {
 public:
  explicit Ticket(std::shared_ptr<std::atomic<std::size_t>> admitted)
      : admitted_(std::move(admitted)) {}
  ~Ticket() { admitted_->fetch_sub(1); }
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;

 private:
  std::shared_ptr<std::atomic<std::size_t>> admitted_;
};

std::shared_ptr<Ticket> admit(const std::shared_ptr<std::atomic<std::size_t>>& admitted,
                              std::size_t streams_max) {
  std::size_t current = admitted->load();
  do {
    if (current >= streams_max) {
      throw ApiError(503, "too-many-streams", "Trop de flux ouverts",
                     "Ce service a atteint son nombre de flux ouverts ; réessayez plus tard.");
    }
  } while (!admitted->compare_exchange_weak(current, current + 1));
  return std::make_shared<Ticket>(admitted);
}

}  // namespace

struct SseHub::Subscriber {
  std::string key;
  int64_t after_id = 0;
  std::shared_ptr<StreamSink> sink;
  std::shared_ptr<Ticket> ticket;
  SteadyClock::time_point opened_at;
  SteadyClock::time_point last_write_at;
  std::string session;  // "" when not checked
  SteadyClock::time_point checked_at;
};

std::string sse_format(const SseEvent& event) {
  std::string out = "id: " + std::to_string(event.id) + "\nevent: " + event.type + "\n";
  std::size_t start = 0;
  // A newline would end the field early: each line of the data gets its own `data:`.
  while (true) {
    const std::size_t end = event.data.find('\n', start);
    out += "data: " + event.data.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out + "\n";
}

SseHub::SseHub(SseOptions options, Fetch fetch)
    : options_(std::move(options)),
      fetch_(std::move(fetch)),
      admitted_(std::make_shared<std::atomic<std::size_t>>(0)) {
  if (options_.streams_max == 0 || options_.batch_max <= 0 ||
      options_.lifetime_max > kStreamLifetimeMax || options_.poll_interval.count() <= 0) {
    throw std::invalid_argument("SseOptions out of bounds");
  }
  thread_ = std::thread([this] { run(); });
}

SseHub::~SseHub() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Response SseHub::open(const std::string& key, int64_t after_id, const std::string& session) {
  auto ticket = admit(admitted_, options_.streams_max);
  Response response =
      Response::stream(200, "text/event-stream",
                       [this, key, after_id, ticket, session](std::shared_ptr<StreamSink> sink) {
                         const auto now = SteadyClock::now();
                         enlist(std::make_unique<Subscriber>(Subscriber{
                             key, after_id, std::move(sink), ticket, now, now, session, now}));
                       });
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("X-Accel-Buffering", "no");  // nginx: pass each event on at once
  return response;
}

void SseHub::enlist(std::unique_ptr<Subscriber> subscriber) {
  // Sent at once: the client (and any proxy) sees the stream open before the first event.
  subscriber->sink->write("retry: " + std::to_string(options_.retry_ms) + "\n\n");
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      subscriber->sink->close();
      return;
    }
    incoming_.push_back(std::move(subscriber));
  }
  wake_.notify_one();  // the backlog goes out now, not at the next poll
}

std::size_t SseHub::open_streams() const {
  return admitted_->load();
}

void SseHub::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || !incoming_.empty(); });
    if (stopping_) break;
    for (auto& subscriber : incoming_) subscribers_.push_back(std::move(subscriber));
    incoming_.clear();
    lock.unlock();
    poll_once();
    lock.lock();
  }
  for (auto& subscriber : incoming_) subscribers_.push_back(std::move(subscriber));
  incoming_.clear();
  lock.unlock();
  for (auto& subscriber : subscribers_) subscriber->sink->close();
  subscribers_.clear();
}

void SseHub::poll_once() {
  maintain(SteadyClock::now());
  if (subscribers_.empty()) return;
  // Two streams of one key (two tabs) may stand at different ids: fetch from the lower one.
  std::map<std::string, int64_t> after_by_key;
  for (const auto& s : subscribers_) {
    auto [it, inserted] = after_by_key.try_emplace(s->key, s->after_id);
    if (!inserted) it->second = std::min(it->second, s->after_id);
  }
  std::vector<Cursor> cursors;
  cursors.reserve(after_by_key.size());
  for (const auto& [key, after_id] : after_by_key) cursors.push_back({key, after_id});
  std::vector<std::pair<std::string, SseEvent>> events;
  try {
    events = fetch_(cursors, options_.batch_max);
  } catch (const std::exception& e) {
    log::warn("sse fetch failed; retrying at the next poll", {{"error", e.what()}});
    return;
  }
  deliver(events);
}

void SseHub::deliver(const std::vector<std::pair<std::string, SseEvent>>& events) {
  if (events.empty()) return;
  std::multimap<std::string, Subscriber*> by_key;
  for (const auto& s : subscribers_) by_key.emplace(s->key, s.get());
  const auto now = SteadyClock::now();
  for (const auto& [key, event] : events) {
    const std::string text = sse_format(event);
    auto [first, last] = by_key.equal_range(key);
    for (auto it = first; it != last; ++it) {
      Subscriber& s = *it->second;
      if (event.id <= s.after_id) continue;  // this stream already has it
      // Asked before the stream's first event of this delivery, whatever the last check said.
      if (s.checked_at != now && !session_stands(s, now)) continue;
      if (!s.sink->write(text)) continue;  // gone: dropped at the next maintain()
      s.after_id = event.id;
      s.last_write_at = now;
    }
  }
}

bool SseHub::session_stands(Subscriber& s, SteadyClock::time_point now) {
  s.checked_at = now;
  if (s.session.empty() || !options_.session_alive || !s.sink->open()) return s.sink->open();
  bool stands = false;
  try {
    stands = options_.session_alive(s.session);
  } catch (const std::exception& e) {
    log::warn("sse session check failed; the stream is closed", {{"error", e.what()}});
  }
  // EventSource reconnects after `retry` with Last-Event-ID: a stream closed by a failed check
  // loses nothing, and one whose session ended is refused at its reconnection.
  if (!stands) s.sink->close();
  return stands;
}

void SseHub::maintain(SteadyClock::time_point now) {
  std::erase_if(subscribers_, [&](const std::unique_ptr<Subscriber>& s) {
    if (!s->sink->open()) return true;  // the client went away
    if (now - s->checked_at >= options_.session_check_interval && !session_stands(*s, now))
      return true;  // its session ended
    if (now - s->opened_at >= options_.lifetime_max) {
      // EventSource reconnects after `retry` with Last-Event-ID: nothing is lost.
      s->sink->close();
      return true;
    }
    if (now - s->last_write_at >= options_.heartbeat_interval) {
      s->sink->write(": keepalive\n\n");
      s->last_write_at = now;
    }
    return false;
  });
}

}  // namespace maillon
