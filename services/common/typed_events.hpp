// Typed events: every event type is declared once, as a JSON Schema in
// schemas/events/<type>.schema.json and as one C++ type here or in events_<stream>.hpp, with its
// reading (from an Event) and its writing (the data JSON the Outbox stores).
//
// Reading never guesses: a missing field, a wrong JSON type or an unknown enum value is a
// failure with a reason ("missing field exchange_id", "unknown state \"x\""), and the consumer
// loop sends such an event to <stream>.dead at once (no retries), nothing applied. An event type
// missing from the registry (declared_event_types) is dead-lettered the same way; a declared type
// a consumer has no use for is acknowledged and skipped.
//
// How to add an event type (or a family sharing one schema, the type as an enum):
//  1. schemas/events/<type>.schema.json (the envelope; `data` may $ref a family's $defs).
//  2. In services/common/events_<stream>.hpp: a struct with only std types in its fields, an
//     enum of its types when it is a family, and
//       static Read<T> read(const Event& e);   // failure: the reason, never a default that acts
//       nlohmann::json data() const;           // what Outbox::add stores
//       std::string type_name() const;         // the envelope's type ("exchange.accepted")
//     (events_exchanges.hpp is the model.) The .cpp reads fields with EventFields
//     (services/common/event_fields.hpp), which keeps the first failure.
//  3. Its type names in the stream's list of declared_event_types() (typed_events.cpp), so
//     that consumers take it and the contract test (tests/integration/event_contract.*) finds it.
//  4. Producers: outbox.add(tx, stream, x.type_name(), community_id, x.data());
//     consumers: `auto x = T::read(e).value();` (value() throws BadEvent, which dead-letters),
//     or test `if (!x)` and `x.reason()` when another fallback is part of the contract.
#pragma once

#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "exchange/enum_names.hpp"

namespace maillon {

struct Event;

// An event that cannot be read as its declared type (or whose type is not declared): the
// consumer loop dead-letters it at once with what() as the reason; its transaction rolls back.
class BadEvent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReadFailure {
  std::string reason;
};

// The answer of a reader: the typed event, or why it could not be read.
template <class T>
class Read {
 public:
  Read(T value) : v_(std::move(value)) {}                // NOLINT: implicit, as a result type
  Read(ReadFailure failure) : v_(std::move(failure)) {}  // NOLINT
  explicit operator bool() const { return v_.index() == 0; }
  const T& operator*() const& { return std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const std::string& reason() const { return std::get<1>(v_).reason; }
  // The event, or BadEvent(reason) for the consumer loop to dead-letter.
  T value() && {
    if (v_.index() != 0) throw BadEvent(std::get<1>(v_).reason);
    return std::move(std::get<0>(v_));
  }
  const T& value() const& {
    if (v_.index() != 0) throw BadEvent(std::get<1>(v_).reason);
    return std::get<0>(v_);
  }

 private:
  std::variant<T, ReadFailure> v_;
};

// A field a consumer cannot do without: its value, or BadEvent("missing field <name>").
template <class V>
const V& required(const std::optional<V>& value, const char* name) {
  if (!value) throw BadEvent(std::string("missing field ") + name);
  return *value;
}

// The registry: every event type the system declares, per stream (logical name: "exchanges").
struct DeclaredStream {
  std::string_view stream;
  std::span<const std::string_view> types;
};
std::span<const DeclaredStream> declared_event_types();
bool is_declared_event_type(std::string_view type);
// The event's type must be declared: otherwise BadEvent("unknown event type \"x\"").
void require_declared(const Event& e);

}  // namespace maillon
