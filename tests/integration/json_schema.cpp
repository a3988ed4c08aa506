// The small JSON Schema validator of json_schema.hpp: enough for our event schemas, strict about
// keywords it does not know so that a schema never passes by being misunderstood.
#include "json_schema.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace maillon::testing {

namespace {

constexpr int kRefDepthMax = 32;

const std::set<std::string>& known_keywords() {
  static const std::set<std::string> kKnown = {"$schema",
                                               "$id",
                                               "$defs",
                                               "title",
                                               "description",
                                               "type",
                                               "enum",
                                               "const",
                                               "required",
                                               "properties",
                                               "additionalProperties",
                                               "items",
                                               "minimum",
                                               "maximum",
                                               "minLength",
                                               "format",
                                               "$ref",
                                               "maxLength",
                                               "pattern",
                                               "minItems",
                                               "maxItems",
                                               "allOf",
                                               "anyOf",
                                               "oneOf",
                                               "default",
                                               "examples",
                                               "readOnly",
                                               "writeOnly",
                                               "deprecated"};
  return kKnown;
}

bool has_type(const nlohmann::json& value, const std::string& type) {
  if (type == "null") return value.is_null();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  throw std::invalid_argument("unknown JSON Schema type " + type);
}

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

struct JsonSchemaSet::Context {
  std::string file;  // the document "#/..." refers to
};

bool is_uuid_format(const std::string& text) {
  static const std::regex kUuid(
      "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  return std::regex_match(text, kUuid);
}

bool is_date_time_format(const std::string& text) {
  static const std::regex kDateTime(
      "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:"
      "([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$");
  return std::regex_match(text, kDateTime);
}

bool is_date_format(const std::string& text) {
  static const std::regex kDate("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$");
  return std::regex_match(text, kDate);
}

namespace {

// Formats beyond uuid and date-time: nullopt when `format` is not one we know.
std::optional<bool> other_format_holds(const std::string& format, const std::string& s) {
  const bool no_space = std::none_of(
      s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (format == "date") return is_date_format(s);
  if (format == "email") return s.find('@') != std::string::npos && s.find('@') > 0 && no_space;
  if (format == "uri-reference") return no_space;
  return std::nullopt;
}

}  // namespace

void JsonSchemaSet::add_document(const std::string& name, nlohmann::json document) {
  documents_[name] = std::move(document);
}

std::vector<std::string> JsonSchemaSet::validate_at(const std::string& file,
                                                    const std::string& pointer,
                                                    const nlohmann::json& instance) {
  std::vector<std::string> out;
  Context at{file};
  check(at, document(file).at(nlohmann::json::json_pointer(pointer)), instance, "", out, 0);
  return out;
}

const nlohmann::json& JsonSchemaSet::document(const std::string& file) {
  auto it = documents_.find(file);
  if (it != documents_.end()) return it->second;
  std::ifstream in(directory_ + "/" + file);
  if (!in) throw std::invalid_argument("no schema " + directory_ + "/" + file);
  std::stringstream text;
  text << in.rdbuf();
  return documents_.emplace(file, nlohmann::json::parse(text.str())).first->second;
}

const nlohmann::json& JsonSchemaSet::resolve(const std::string& ref, Context& at) {
  auto hash = ref.find('#');
  if (hash == std::string::npos) throw std::invalid_argument("$ref without #: " + ref);
  if (hash > 0) at.file = ref.substr(0, hash);
  std::string pointer = ref.substr(hash + 1);
  const nlohmann::json& doc = document(at.file);
  if (pointer.empty()) return doc;
  return doc.at(nlohmann::json::json_pointer(pointer));
}

std::vector<std::string> JsonSchemaSet::validate(const std::string& file,
                                                 const nlohmann::json& instance) {
  std::vector<std::string> out;
  Context at{file};
  check(at, document(file), instance, "", out, 0);
  return out;
}

void JsonSchemaSet::check(const Context& at, const nlohmann::json& schema,
                          const nlohmann::json& value, const std::string& pointer,
                          std::vector<std::string>& out, int depth) {
  const std::string where = pointer.empty() ? "/" : pointer;
  for (const auto& item : schema.items()) {
    if (!known_keywords().count(item.key())) {
      throw std::invalid_argument("unsupported JSON Schema keyword " + item.key());
    }
  }
  if (schema.contains("$ref")) {
    if (depth > kRefDepthMax) throw std::invalid_argument("$ref loop");
    Context next = at;
    const nlohmann::json& target = resolve(schema["$ref"].get<std::string>(), next);
    check(next, target, value, pointer, out, depth + 1);
  }
  check_combinators(at, schema, value, pointer, out, depth);
  if (schema.contains("type")) {
    nlohmann::json types =
        schema["type"].is_array() ? schema["type"] : nlohmann::json::array({schema["type"]});
    bool any = false;
    for (const auto& t : types) any = any || has_type(value, t.get<std::string>());
    if (!any) {
      out.push_back(where + ": expected type " + schema["type"].dump() + ", got " + value.dump());
      return;
    }
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& v : schema["enum"]) found = found || v == value;
    if (!found) out.push_back(where + ": " + value.dump() + " not in " + schema["enum"].dump());
  }
  if (schema.contains("const") && schema["const"] != value) {
    out.push_back(where + ": expected " + schema["const"].dump());
  }
  if (value.is_number()) {
    double v = value.get<double>();
    if (schema.contains("minimum") && v < schema["minimum"].get<double>())
      out.push_back(where + ": below minimum");
    if (schema.contains("maximum") && v > schema["maximum"].get<double>())
      out.push_back(where + ": above maximum");
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (schema.contains("minLength") && code_points(s) < schema["minLength"].get<std::size_t>()) {
      out.push_back(where + ": shorter than minLength");
    }
    if (schema.contains("maxLength") && code_points(s) > schema["maxLength"].get<std::size_t>()) {
      out.push_back(where + ": longer than maxLength");
    }
    if (schema.contains("pattern") &&
        !std::regex_search(s, std::regex(schema["pattern"].get<std::string>()))) {
      out.push_back(where + ": does not match the pattern " + schema["pattern"].get<std::string>() +
                    ": " + s);
    }
    std::string format = schema.value("format", "");
    if (format == "uuid" && !is_uuid_format(s)) out.push_back(where + ": not a uuid: " + s);
    if (format == "date-time" && !is_date_time_format(s))
      out.push_back(where + ": not a date-time: " + s);
    if (!format.empty() && format != "uuid" && format != "date-time") {
      auto holds = other_format_holds(format, s);
      if (!holds) throw std::invalid_argument("unsupported format " + format);
      if (!*holds) out.push_back(where + ": not a " + format + ": " + s);
    }
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>()) {
      out.push_back(where + ": fewer items than minItems");
    }
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<std::size_t>()) {
      out.push_back(where + ": more items than maxItems");
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      check(at, schema["items"], value[i], pointer + "/" + std::to_string(i), out, depth);
    }
  }
  if (value.is_object()) check_object(at, schema, value, pointer, out, depth);
}

// allOf: every subschema holds; anyOf: at least one does (its own violations are not reported);
// oneOf: exactly one does.
void JsonSchemaSet::check_combinators(const Context& at, const nlohmann::json& schema,
                                      const nlohmann::json& value, const std::string& pointer,
                                      std::vector<std::string>& out, int depth) {
  for (const auto& sub : schema.value("allOf", nlohmann::json::array()))
    check(at, sub, value, pointer, out, depth);
  if (schema.contains("oneOf")) {
    int holding = 0;
    for (const auto& sub : schema["oneOf"]) {
      std::vector<std::string> violations;
      check(at, sub, value, pointer, violations, depth);
      if (violations.empty()) ++holding;
    }
    if (holding != 1) {
      out.push_back((pointer.empty() ? "/" : pointer) + ": matches " + std::to_string(holding) +
                    " of oneOf, not exactly one");
    }
  }
  if (!schema.contains("anyOf")) return;
  for (const auto& sub : schema["anyOf"]) {
    std::vector<std::string> violations;
    check(at, sub, value, pointer, violations, depth);
    if (violations.empty()) return;
  }
  out.push_back((pointer.empty() ? "/" : pointer) + ": matches none of anyOf");
}

void JsonSchemaSet::check_object(const Context& at, const nlohmann::json& schema,
                                 const nlohmann::json& value, const std::string& pointer,
                                 std::vector<std::string>& out, int depth) {
  const std::string where = pointer.empty() ? "/" : pointer;
  for (const auto& name : schema.value("required", nlohmann::json::array())) {
    if (!value.contains(name.get<std::string>()))
      out.push_back(where + ": missing " + name.get<std::string>());
  }
  const nlohmann::json properties = schema.value("properties", nlohmann::json::object());
  for (const auto& [key, item] : value.items()) {
    std::string child = pointer + "/" + key;
    if (properties.contains(key)) {
      check(at, properties[key], item, child, out, depth);
    } else if (schema.contains("additionalProperties")) {
      if (!schema["additionalProperties"].is_boolean()) {
        throw std::invalid_argument("additionalProperties must be a boolean here");
      }
      if (!schema["additionalProperties"].get<bool>()) out.push_back(child + ": not allowed");
    }
  }
}

}  // namespace maillon::testing
