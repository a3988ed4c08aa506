// Spans and their exporter: OTLP/HTTP with the JSON encoding (ids in hex, times in nanoseconds
// as strings), one background thread posting batches with libcurl.
#include "services/common/trace.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "services/common/log.hpp"

namespace maillon::trace {

namespace {

constexpr std::size_t kBatchMax = 512;        // spans per POST
constexpr std::size_t kQueueMax = 16'384;     // beyond it spans are dropped (and counted)
constexpr long kPostTimeoutMs = 5000;         // a collector slower than this loses the batch
constexpr int64_t kDefaultFlushMs = 1000;     // MAILLON_OTLP_FLUSH_MS: at most this late
constexpr int64_t kWarnEveryUs = 60'000'000;  // one warning a minute while export fails

thread_local Context t_current;

struct Attribute {
  std::string key;
  std::string text;
  int64_t number = 0;
  bool is_number = false;
};

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

std::string random_hex(std::size_t bytes) {
  thread_local std::mt19937_64 engine([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device() ^
           std::hash<std::thread::id>{}(std::this_thread::get_id());
  }());
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  while (out.size() < bytes * 2) {
    uint64_t word = engine();
    for (int i = 0; i < 16 && out.size() < bytes * 2; ++i, word >>= 4) out += kDigits[word & 15];
  }
  if (all_zero(out)) out.back() = '1';  // an all-zero id is invalid in W3C and OTLP
  return out;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The collector's traces URL: MAILLON_OTLP_ENDPOINT + /v1/traces (unless it already names it);
// "" when unset or not an http(s) URL.
std::string traces_url() {
  const char* raw = std::getenv("MAILLON_OTLP_ENDPOINT");
  std::string url = raw == nullptr ? "" : raw;
  if (url.empty()) return "";
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    log::error("MAILLON_OTLP_ENDPOINT is not an http(s) URL: tracing stays off", {{"value", url}});
    return "";
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!url.ends_with("/v1/traces")) url += "/v1/traces";
  return url;
}

int64_t flush_interval_ms() {
  const char* raw = std::getenv("MAILLON_OTLP_FLUSH_MS");
  if (raw == nullptr || *raw == '\0') return kDefaultFlushMs;
  char* end = nullptr;
  const long long v = std::strtoll(raw, &end, 10);
  if (end == raw || *end != '\0' || v < 10 || v > 60'000) return kDefaultFlushMs;
  return v;
}

}  // namespace

struct Span::Data {
  Context context;
  std::string parent_span_id;
  std::string name;
  Kind kind = Kind::internal;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::vector<Attribute> attributes;
  bool failed = false;
  std::string status_message;
};

namespace {

nlohmann::json attribute_json(const Attribute& a) {
  nlohmann::json value = a.is_number ? nlohmann::json{{"intValue", std::to_string(a.number)}}
                                     : nlohmann::json{{"stringValue", a.text}};
  return {{"key", a.key}, {"value", value}};
}

nlohmann::json span_json(const Span::Data& s) {
  nlohmann::json j = {{"traceId", s.context.trace_id},
                      {"spanId", s.context.span_id},
                      {"name", s.name},
                      {"kind", static_cast<int>(s.kind)},
                      {"startTimeUnixNano", std::to_string(s.start_ns)},
                      {"endTimeUnixNano", std::to_string(s.end_ns)},
                      {"attributes", nlohmann::json::array()},
                      {"status", nlohmann::json::object()}};
  if (!s.parent_span_id.empty()) j["parentSpanId"] = s.parent_span_id;
  for (const auto& a : s.attributes) j["attributes"].push_back(attribute_json(a));
  if (s.failed) j["status"] = {{"code", 2}, {"message", s.status_message}};
  return j;
}

// The request body for one batch: one resource (this process), one scope.
std::string export_body(const std::vector<Span::Data>& spans) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : spans) list.push_back(span_json(s));
  nlohmann::json resource_attributes = nlohmann::json::array(
      {attribute_json({"service.name", log::service()}),
       attribute_json({"service.namespace", "maillon"}),
       attribute_json({"process.pid", "", static_cast<int64_t>(::getpid()), true})});
  nlohmann::json body = {
      {"resourceSpans", nlohmann::json::array({{{"resource", {{"attributes", resource_attributes}}},
                                                {"scopeSpans", nlohmann::json::array({{
                                                                   {"scope", {{"name", "maillon"}}},
                                                                   {"spans", std::move(list)},
                                                               }})}}})}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

size_t discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

class Exporter {
 public:
  explicit Exporter(std::string url) : url_(std::move(url)), flush_ms_(flush_interval_ms()) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    thread_ = std::thread([this] { loop(); });
    log::info("tracing on: spans go to the OTLP collector", {{"url", url_}});
  }
  ~Exporter() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void push(Span::Data&& span) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= kQueueMax) {
        ++dropped_;
        return;
      }
      queue_.push_back(std::move(span));
      if (queue_.size() < kBatchMax) return;
    }
    wake_.notify_one();
  }

  void flush() {
    std::unique_lock lock(mutex_);
    const uint64_t wanted = ++flush_requested_;
    wake_.notify_all();
    done_.wait_for(lock, std::chrono::seconds(2 * kPostTimeoutMs / 1000),
                   [&] { return flushed_ >= wanted || stopping_; });
  }

 private:
  void loop() {
    CURL* curl = curl_easy_init();
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait_for(lock, std::chrono::milliseconds(flush_ms_), [&] {
        return stopping_ || queue_.size() >= kBatchMax || flush_requested_ > flushed_;
      });
      const uint64_t requested = flush_requested_;
      while (!queue_.empty()) {
        const std::size_t n = std::min(queue_.size(), kBatchMax);
        std::vector<Span::Data> batch(std::make_move_iterator(queue_.begin()),
                                      std::make_move_iterator(queue_.begin() + n));
        queue_.erase(queue_.begin(), queue_.begin() + n);
        lock.unlock();
        post(curl, batch);
        lock.lock();
      }
      flushed_ = requested;
      done_.notify_all();
      if (stopping_) break;
    }
    lock.unlock();
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  void post(CURL* curl, const std::vector<Span::Data>& batch) {
    if (curl == nullptr) return;
    const std::string body = export_body(batch);
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kPostTimeoutMs);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (code == CURLE_OK && status >= 200 && status < 300) return;
    failed_ += batch.size();
    const int64_t now = steady_us();
    if (now < next_warning_us_) return;
    next_warning_us_ = now + kWarnEveryUs;
    log::warn("the OTLP collector did not take a batch of spans; they are dropped",
              {{"url", url_},
               {"error", code == CURLE_OK ? "HTTP " + std::to_string(status)
                                          : std::string(curl_easy_strerror(code))},
               {"spans_lost", std::to_string(failed_ + dropped_.load())}});
  }

  std::string url_;
  int64_t flush_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Span::Data> queue_;
  bool stopping_ = false;
  uint64_t flush_requested_ = 0;
  uint64_t flushed_ = 0;
  std::atomic<uint64_t> dropped_{0};
  uint64_t failed_ = 0;
  int64_t next_warning_us_ = 0;
  std::thread thread_;
};

// The exporter of this process, made on first use (nullptr when tracing is off). A static: at
// exit its destructor sends what is still queued.
Exporter* exporter() {
  static const std::string url = traces_url();
  if (url.empty()) return nullptr;
  static Exporter instance(url);
  return &instance;
}

}  // namespace

std::string Context::traceparent() const {
  if (!valid()) return "";
  return "00-" + trace_id + "-" + span_id + (sampled ? "-01" : "-00");
}

Context Context::parse(std::string_view traceparent) {
  // 00-<32 hex>-<16 hex>-<2 hex>: 55 characters, lower case, ids not all zeros.
  if (traceparent.size() != 55 || traceparent.substr(0, 3) != "00-" || traceparent[35] != '-' ||
      traceparent[52] != '-')
    return {};
  const auto trace_id = traceparent.substr(3, 32);
  const auto span_id = traceparent.substr(36, 16);
  const auto flags = traceparent.substr(53, 2);
  if (!is_lower_hex(trace_id) || !is_lower_hex(span_id) || !is_lower_hex(flags) ||
      all_zero(trace_id) || all_zero(span_id)) {
    return {};
  }
  const int flag_bits = std::stoi(std::string(flags), nullptr, 16);
  return Context{std::string(trace_id), std::string(span_id), (flag_bits & 1) != 0};
}

bool enabled() {
  static const bool on = exporter() != nullptr;
  return on;
}

const Context& current() {
  return t_current;
}

Span::Span(std::string_view name, Kind kind, const Context& parent) {
  if (!enabled()) return;
  data_ = std::make_unique<Data>();
  data_->context.trace_id = parent.valid() ? parent.trace_id : random_hex(16);
  data_->context.span_id = random_hex(8);
  data_->context.sampled = parent.valid() ? parent.sampled : true;
  if (parent.valid()) data_->parent_span_id = parent.span_id;
  data_->name = std::string(name);
  data_->kind = kind;
  data_->start_ns = now_ns();
}

Span::Span() = default;

Span::~Span() {
  end();
}

Span::Span(Span&&) noexcept = default;
Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    end();
    data_ = std::move(other.data_);
  }
  return *this;
}

const Context& Span::context() const {
  static const Context none;
  return data_ ? data_->context : none;
}

void Span::rename(std::string_view name) {
  if (data_) data_->name = std::string(name);
}

void Span::attribute(std::string_view key, std::string_view value) {
  if (data_) data_->attributes.push_back({std::string(key), std::string(value), 0, false});
}

void Span::attribute(std::string_view key, int64_t value) {
  if (data_) data_->attributes.push_back({std::string(key), "", value, true});
}

void Span::error(std::string_view message) {
  if (!data_) return;
  data_->failed = true;
  data_->status_message = std::string(message);
}

void Span::end() {
  if (!data_) return;
  data_->end_ns = now_ns();
  // Unsampled spans (the caller's choice, in its traceparent) still pass their context on.
  if (data_->context.sampled) exporter()->push(std::move(*data_));
  data_.reset();
}

Scope::Scope(const Context& context) {
  if (!enabled()) return;
  saved_ = t_current;
  t_current = context;
  set_ = true;
}

Scope::~Scope() {
  if (set_) t_current = std::move(saved_);
}

void flush() {
  if (auto* e = exporter()) e->flush();
}

}  // namespace maillon::trace
