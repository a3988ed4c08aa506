// Reading JSON request bodies strictly: malformed JSON, wrong types, unknown or forbidden
// fields all become a 400 with one entry per offending field. One reader for every service.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exchange/validation.hpp"

namespace maillon {

using Json = nlohmann::json;

// Parses JSON from outside (a request body, a partner's message): discarded when malformed, and
// when an object names a member twice, which RFC 8259 leaves to each reader: a proxy or a log
// reader taking the first "minutes" would not see the amount the service took from the last.
// `repeated`, when given, tells which of the two it was.
Json parse_outside_json(std::string_view text, bool* repeated = nullptr);

// Parses a request body that must be a JSON object (an empty body counts as {} when allowed).
// Malformed, or with a member named twice in an object: 400.
Json parse_json_object(std::string_view body, bool empty_is_object = false);

class BodyReader {
 public:
  // `allowed`: the fields a client may send; any other is refused ("champ inconnu"), and a field in
  // `forbidden` is refused with a message saying it is not the client's to set.
  BodyReader(const Json& object, std::initializer_list<std::string_view> allowed,
             std::initializer_list<std::string_view> forbidden = {});
  BodyReader(const Json& object, const std::vector<std::string_view>& allowed,
             const std::vector<std::string_view>& forbidden);

  bool has(std::string_view field) const;
  // Texts (and text_list items) refuse C0 control characters but tab, LF and CR: a NUL could not
  // be stored, the others hide what a reader sees.
  std::optional<std::string> text(std::string_view field, std::size_t max_code_points = 10'000);
  std::string required_text(std::string_view field, std::size_t max_code_points = 10'000);
  std::optional<int64_t> integer(std::string_view field, int64_t low, int64_t high);
  int64_t required_integer(std::string_view field, int64_t low, int64_t high);
  std::optional<double> number(std::string_view field, double low, double high);
  std::optional<bool> boolean(std::string_view field);
  std::optional<std::string> uuid(std::string_view field);
  std::string required_uuid(std::string_view field);
  std::optional<std::vector<std::string>> text_list(std::string_view field, std::size_t max_items,
                                                    std::size_t max_code_points);
  // {lat, lon} object with both in range.
  struct LatLon {
    double lat;
    double lon;
  };
  std::optional<LatLon> location(std::string_view field);
  // A nested object read by its own reader (field names prefixed with "<field>.").
  const Json* object(std::string_view field);

  void add_error(std::string field, std::string message);
  const FieldErrors& errors() const { return errors_; }
  // Throws a 400 ApiError listing every error collected so far; no-op when there is none.
  void finish() const;

 private:
  const Json& object_;
  FieldErrors errors_;
  const Json* get(std::string_view field) const;
  void check_fields(const std::vector<std::string_view>& allowed,
                    const std::vector<std::string_view>& forbidden);
};

bool is_uuid(std::string_view text);

// Reads a request body that must be a JSON object of the `allowed` fields (the `forbidden` ones
// refused as not the client's to set): `read(reader)` takes the fields and returns the input,
// then every error found throws one 400. The shape of every parse_* function.
template <class Read>
auto read_body(std::string_view body, std::initializer_list<std::string_view> allowed,
               std::initializer_list<std::string_view> forbidden, Read read) {
  const Json object = parse_json_object(body);
  BodyReader reader(object, allowed, forbidden);
  auto input = read(reader);
  reader.finish();
  return input;
}
template <class Read>
auto read_body(std::string_view body, std::initializer_list<std::string_view> allowed, Read read) {
  return read_body(body, allowed, {}, std::move(read));
}

}  // namespace maillon

namespace maillon {
struct Response;
// The JSON text of an answer body (compact; invalid UTF-8 replaced rather than thrown).
std::string json_text(const Json& body);
Response json_response(int status, const Json& body);
}  // namespace maillon
