// OpenTelemetry traces, off by default. With MAILLON_OTLP_ENDPOINT set (http://host:4318), the
// spans of this process are sent to <endpoint>/v1/traces as OTLP/HTTP JSON by one background
// thread, in batches: a request never waits for the collector, and a collector that is down or
// slow costs dropped spans, never a request. Unset, enabled() is false and a Span is an empty
// object: nothing is allocated, timed or sent.
//
// What is traced (services/common only): a server span per HTTP request (its parent the
// request's W3C traceparent), a producer span per event an outbox writes (the event carries its
// traceparent) and a consumer span per event applied (the child of that producer span), so that
// one trace follows a request across the services and the streams.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace maillon::trace {

enum class Kind { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

// A span's identity in lower-case hex (32 and 16 digits); empty when there is none.
struct Context {
  std::string trace_id;
  std::string span_id;
  bool sampled = true;

  bool valid() const { return !trace_id.empty() && !span_id.empty(); }
  // "00-<trace_id>-<span_id>-01" (W3C Trace Context, version 00); "" when not valid().
  std::string traceparent() const;
  // A well-formed version-00 traceparent, or an empty Context (a bad one starts a new trace).
  static Context parse(std::string_view traceparent);
};

// True when MAILLON_OTLP_ENDPOINT names a collector (read once, on the first call).
bool enabled();

// The span in progress on this thread (the request being handled, the event being applied), or
// an empty Context.
const Context& current();

// One span: started at construction, ended (and queued for export) by end() or the destructor.
// Constructed while tracing is off, it is empty and every member does nothing.
class Span {
 public:
  Span();  // empty
  // A child of `parent` when it is valid, else the root of a new trace.
  Span(std::string_view name, Kind kind, const Context& parent);
  ~Span();
  Span(Span&&) noexcept;
  Span& operator=(Span&&) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  bool active() const { return data_ != nullptr; }
  const Context& context() const;
  void rename(std::string_view name);
  void attribute(std::string_view key, std::string_view value);
  void attribute(std::string_view key, int64_t value);
  // Marks the span failed (OTLP status ERROR) with why.
  void error(std::string_view message);
  void end();

  struct Data;

 private:
  std::unique_ptr<Data> data_;
};

// Makes `context` current on this thread while it lives (then restores the previous one).
class Scope {
 public:
  explicit Scope(const Context& context);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Context saved_;
  bool set_ = false;
};

// Sends what is queued now and waits for it (at most a few seconds): for tests and at exit.
void flush();

}  // namespace maillon::trace
