// A JSON Schema validator for the subset our event schemas use (draft 2020-12): type (one or a
// list), enum, const, required, properties, additionalProperties: false, items, minimum,
// maximum, minLength, maxLength, pattern, minItems, maxItems, allOf, anyOf, format uuid, date-time,
// date, email and uri-reference, annotations (default, examples, readOnly, writeOnly, deprecated),
// and $ref to "#/..." in the same document or "<file>#/..." beside it. Anything else in a schema is
// reported, not ignored. Documents come from files or are added in memory (the OpenAPI bundle).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace maillon::testing {

class JsonSchemaSet {
 public:
  // Schemas are read from `directory` by file name ("offer.published.schema.json").
  explicit JsonSchemaSet(std::string directory) : directory_(std::move(directory)) {}

  // Violations of the schema `file` by `instance`, each "<json pointer>: <why>"; empty = valid.
  std::vector<std::string> validate(const std::string& file, const nlohmann::json& instance);

  // Registers an in-memory document under `name`, replacing any document of that name.
  void add_document(const std::string& name, nlohmann::json document);
  // Violations of the schema found at JSON pointer `pointer` inside document `file`
  // ("/components/schemas/Me"); its "#/..." refs resolve within that document.
  std::vector<std::string> validate_at(const std::string& file, const std::string& pointer,
                                       const nlohmann::json& instance);

 private:
  struct Context;
  const nlohmann::json& document(const std::string& file);
  void check(const Context& at, const nlohmann::json& schema, const nlohmann::json& value,
             const std::string& pointer, std::vector<std::string>& out, int depth);
  void check_combinators(const Context& at, const nlohmann::json& schema,
                         const nlohmann::json& value, const std::string& pointer,
                         std::vector<std::string>& out, int depth);
  void check_object(const Context& at, const nlohmann::json& schema, const nlohmann::json& value,
                    const std::string& pointer, std::vector<std::string>& out, int depth);
  const nlohmann::json& resolve(const std::string& ref, Context& at);

  std::string directory_;
  std::map<std::string, nlohmann::json> documents_;
};

bool is_uuid_format(const std::string& text);
bool is_date_time_format(const std::string& text);  // RFC 3339 with a zone
bool is_date_format(const std::string& text);       // RFC 3339 full-date

}  // namespace maillon::testing
