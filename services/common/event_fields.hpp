// Reading and writing the fields of an event's data, for the readers and writers of typed events
// (events_<stream>.cpp). Heavy (nlohmann/json): include it in .cpp files only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

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

// The event type's family member, from its name; `why` says so otherwise.
template <class E>
std::optional<E> type_from(std::span<const EnumName<E>> table, const Event& e, std::string& why) {
  if (auto t = enum_from_name(table, e.type)) return t;
  why = "unexpected event type \"" + e.type + "\"";
  return std::nullopt;
}

// For writers: an optional id or text as the schema's ["string", "null"].
inline nlohmann::json nullable(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace maillon
