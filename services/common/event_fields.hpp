// Reading and writing the fields of an event's data, for the readers and writers of typed events
// (events_<stream>.cpp). Heavy (nlohmann/json): include it in .cpp files only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>

#include "services/common/events.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {

// Reads fields of one JSON object; the first failure is kept as the reason (later reads answer
// empty values, and finish() turns the whole into a ReadFailure). "Required" means present and
// of its type; "nullable" means present, null allowed; "optional" means absent or null allowed.
class EventFields {
 public:
  explicit EventFields(const nlohmann::json& data, std::string prefix = {})
      : data_(data), prefix_(std::move(prefix)) {}

  std::string uuid(const char* name);
  std::optional<std::string> nullable_uuid(const char* name);
  std::optional<std::string> optional_uuid(const char* name);
  std::string text(const char* name);
  std::optional<std::string> nullable_text(const char* name);
  std::optional<std::string> optional_text(const char* name);
  int64_t integer(const char* name);
  std::optional<int64_t> optional_integer(const char* name);
  bool boolean(const char* name);
  std::optional<bool> optional_boolean(const char* name);
  // The field as it is (an object or array carried through); null when absent.
  const nlohmann::json* raw(const char* name);

  template <class E>
  E enumeration(const char* name, std::span<const EnumName<E>> table) {
    const std::string value = text(name);
    if (failed()) return E{};
    if (auto e = enum_from_name(table, value)) return *e;
    fail("unknown " + prefix_ + name + " \"" + value + "\"");
    return E{};
  }
  template <class E>
  std::optional<E> optional_enumeration(const char* name, std::span<const EnumName<E>> table) {
    if (absent(name)) return std::nullopt;
    return enumeration(name, table);
  }

  template <class E, std::size_t N>
  E enumeration(const char* name, const EnumName<E> (&table)[N]) {
    return enumeration(name, std::span<const EnumName<E>>(table));
  }
  template <class E, std::size_t N>
  std::optional<E> optional_enumeration(const char* name, const EnumName<E> (&table)[N]) {
    return optional_enumeration(name, std::span<const EnumName<E>>(table));
  }

  // A name read by a domain parser (std::optional<E> parse(std::string_view)): an unknown one
  // fails with "unknown <field> \"x\"".
  template <class Parse>
  auto parsed(const char* name, Parse parse) -> decltype(parse(std::string_view{})) {
    const std::string value = text(name);
    if (failed()) return std::nullopt;
    auto result = parse(value);
    if (!result) fail("unknown " + prefix_ + name + " \"" + value + "\"");
    return result;
  }
  template <class Parse>
  auto optional_parsed(const char* name, Parse parse) -> decltype(parse(std::string_view{})) {
    if (absent(name)) return std::nullopt;
    return parsed(name, parse);
  }

  bool absent(const char* name) const;  // missing or null
  void fail(std::string reason) {
    if (!failed()) reason_ = std::move(reason);
  }
  bool failed() const { return reason_.has_value(); }
  const std::string& reason() const { return *reason_; }
  // Carries a nested reader's failure into this one.
  void take(const EventFields& nested) {
    if (nested.failed()) fail(nested.reason());
  }

  template <class T>
  Read<T> finish(T value) const {
    if (reason_) return ReadFailure{*reason_};
    return value;
  }

 private:
  const nlohmann::json& data_;
  std::string prefix_;  // "resolution." for nested objects, in reasons
  std::optional<std::string> reason_;
  const nlohmann::json* find(const char* name, bool required);
};

// The reading of an event: unless `known` (a type this reader takes), the failure
// `refusal` "\"<type>\"" ("not an exchange event: \"x\""); otherwise `body(fields, value)` reads
// the data into a T, the first failure being the reason.
template <class T, class Body>
Read<T> read_event(const Event& e, bool known, std::string_view refusal, Body body) {
  if (!known) return ReadFailure{std::string(refusal) + "\"" + e.type + "\""};
  EventFields f(e.data);
  T x;
  body(f, x);
  return f.finish(std::move(x));
}

// The same for a family of types: `type` (from the family's table, nullopt when unknown) is put
// in the value's `slot` before `body` reads the rest.
template <class T, class E, class Body>
Read<T> read_event(const Event& e, std::optional<E> type, E T::*slot, std::string_view refusal,
                   Body body) {
  return read_event<T>(e, type.has_value(), refusal, [&](EventFields& f, T& x) {
    x.*slot = *type;
    body(f, x);
  });
}

// For writers: an optional id or text as the schema's ["string", "null"].
inline nlohmann::json nullable(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// One field of an event type, named once for its reader and its writer: a table of them (a
// std::tuple, in reading order, since the first failure is the reason) replaces a line in read()
// and another in data() per field. The reader is one of EventFields' (&EventFields::optional_uuid);
// an optional reader into a plain member reads an absent field as the member type's empty value.
// An unset std::optional member is left out of data() or written as null (the schema says which).
enum class WhenUnset { omit, null };

template <class T, class V, class R>
struct EventField {
  const char* name;
  V T::*member;
  R (EventFields::*reader)(const char*);
  WhenUnset unset = WhenUnset::omit;

  void read(EventFields& f, T& x) const {
    if constexpr (std::is_same_v<V, R>)
      x.*member = (f.*reader)(name);
    else
      x.*member = (f.*reader)(name).value_or(V{});
  }
  void write(nlohmann::json& data, const T& x) const {
    const V& value = x.*member;
    if constexpr (requires { value.has_value(); }) {
      if (value)
        data[name] = *value;
      else if (unset == WhenUnset::null)
        data[name] = nullptr;
    } else {
      data[name] = value;
    }
  }
};

template <class T, class V, class R>
constexpr EventField<T, V, R> event_field(const char* name, V T::*member,
                                          R (EventFields::*reader)(const char*),
                                          WhenUnset unset = WhenUnset::omit) {
  return {name, member, reader, unset};
}

template <class T, class... F>
void read_fields(EventFields& f, T& x, const std::tuple<F...>& fields) {
  std::apply([&](const auto&... d) { (d.read(f, x), ...); }, fields);
}

template <class T, class... F>
void write_fields(nlohmann::json& data, const T& x, const std::tuple<F...>& fields) {
  std::apply([&](const auto&... d) { (d.write(data, x), ...); }, fields);
}

}  // namespace maillon
