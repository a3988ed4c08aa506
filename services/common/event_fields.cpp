#include "services/common/event_fields.hpp"

#include "services/common/json_body.hpp"

namespace maillon {

bool EventFields::absent(const char* name) const {
  if (!data_.is_object()) return true;
  const auto it = data_.find(name);
  return it == data_.end() || it->is_null();
}

const nlohmann::json* EventFields::find(const char* name, bool required) {
  if (failed()) return nullptr;
  if (!data_.is_object()) {
    fail(prefix_.empty() ? "data is not an object" : prefix_ + " is not an object");
    return nullptr;
  }
  const auto it = data_.find(name);
  if (it == data_.end()) {
    if (required) fail("missing field " + prefix_ + name);
    return nullptr;
  }
  return &*it;
}

std::string EventFields::text(const char* name) {
  const nlohmann::json* v = find(name, true);
  if (!v) return {};
  if (!v->is_string()) {
    fail("field " + prefix_ + name + " is not a string");
    return {};
  }
  return v->get<std::string>();
}

std::optional<std::string> EventFields::nullable_text(const char* name) {
  const nlohmann::json* v = find(name, true);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    fail("field " + prefix_ + name + " is not a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::string> EventFields::optional_text(const char* name) {
  if (absent(name)) return std::nullopt;
  return nullable_text(name);
}

std::string EventFields::uuid(const char* name) {
  std::string value = text(name);
  if (!failed() && !is_uuid(value)) fail("field " + prefix_ + name + " is not a uuid");
  return value;
}

std::optional<std::string> EventFields::nullable_uuid(const char* name) {
  auto value = nullable_text(name);
  if (value && !is_uuid(*value)) fail("field " + prefix_ + name + " is not a uuid");
  return value;
}

std::optional<std::string> EventFields::optional_uuid(const char* name) {
  if (absent(name)) return std::nullopt;
  return nullable_uuid(name);
}

int64_t EventFields::integer(const char* name) {
  const nlohmann::json* v = find(name, true);
  if (!v) return 0;
  if (!v->is_number_integer()) {
    fail("field " + prefix_ + name + " is not an integer");
    return 0;
  }
  return v->get<int64_t>();
}

std::optional<int64_t> EventFields::optional_integer(const char* name) {
  if (absent(name)) return std::nullopt;
  return integer(name);
}

bool EventFields::boolean(const char* name) {
  const nlohmann::json* v = find(name, true);
  if (!v) return false;
  if (!v->is_boolean()) {
    fail("field " + prefix_ + name + " is not a boolean");
    return false;
  }
  return v->get<bool>();
}

std::optional<bool> EventFields::optional_boolean(const char* name) {
  if (absent(name)) return std::nullopt;
  return boolean(name);
}

const nlohmann::json* EventFields::raw(const char* name) {
  if (absent(name)) return nullptr;
  return find(name, false);
}

}  // namespace maillon
