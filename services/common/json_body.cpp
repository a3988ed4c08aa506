// Strict JSON body reading; every refusal names its field and says why in French.
#include "services/common/json_body.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_set>

#include "exchange/listing.hpp"
#include "services/common/errors.hpp"

namespace maillon {
namespace {

constexpr std::size_t kMaxJsonDepth = 32;

std::size_t depth_of(const Json& j, std::size_t level) {
  if (level > kMaxJsonDepth) return level;
  std::size_t deepest = level;
  if (j.is_object() || j.is_array()) {
    for (const auto& child : j) deepest = std::max(deepest, depth_of(child, level + 1));
  }
  return deepest;
}

// nlohmann has already refused invalid UTF-8, so the count is always there.
std::size_t code_points(std::string_view s) {
  return utf8_code_points(s).value_or(s.size());
}

// A NUL (\u0000 in JSON) cannot be stored in a PostgreSQL text and other C0 controls only serve
// to hide or garble what a reader sees: refused at the edge, for every service at once. Tabs and
// line breaks are ordinary text. So are the invisible format characters that only hide or
// disguise: the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make
// "gpj.exe" read "exe.jpg", and the zero-width space, word joiner and byte-order mark (U+200B,
// U+2060, U+FEFF), which pad a title to its minimum length or make two addresses look alike.
// The zero-width joiners (U+200C, U+200D) stay: scripts and emoji sequences need them.
bool has_control_character(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto byte = static_cast<unsigned char>(s[i]);
    if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') return true;
    if (i + 2 >= s.size()) continue;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    const auto b2 = static_cast<unsigned char>(s[i + 2]);
    if (byte == 0xE2 && b1 == 0x80 && (b2 == 0x8B || (b2 >= 0xAA && b2 <= 0xAE))) return true;
    if (byte == 0xE2 && b1 == 0x81 && (b2 == 0xA0 || (b2 >= 0xA6 && b2 <= 0xA9))) return true;
    if (byte == 0xEF && b1 == 0xBB && b2 == 0xBF) return true;
  }
  return false;
}
constexpr const char* kControlCharacterMessage =
    "ne doit pas contenir de caractère de contrôle ni de caractère invisible (octet nul, "
    "espace sans largeur, inversion du sens d'écriture)";

}  // namespace

bool is_uuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(t[i]))) {
      return false;
    }
  }
  return true;
}

Json parse_outside_json(std::string_view text, bool* repeated_name) {
  // The names seen in each object open at this point of the text, innermost last (hashed: an
  // object of many members costs no more than reading them).
  std::vector<std::unordered_set<std::string>> open_objects;
  bool repeated = false;
  Json parsed = Json::parse(
      text.begin(), text.end(),
      [&](int /*depth*/, Json::parse_event_t event, Json& value) {
        if (event == Json::parse_event_t::object_start) {
          open_objects.emplace_back();
        } else if (event == Json::parse_event_t::object_end && !open_objects.empty()) {
          open_objects.pop_back();
        } else if (event == Json::parse_event_t::key && !open_objects.empty()) {
          if (!open_objects.back().insert(value.get_ref<const std::string&>()).second)
            repeated = true;
        }
        return true;
      },
      false);
  if (repeated_name != nullptr) *repeated_name = repeated;
  if (repeated) return Json(Json::value_t::discarded);
  return parsed;
}

Json parse_json_object(std::string_view body, bool empty_is_object) {
  if (body.empty() && empty_is_object) return Json::object();
  bool repeated = false;
  Json parsed = parse_outside_json(body, &repeated);
  if (repeated) {
    throw invalid_input("Un champ figure deux fois dans le corps de la requête.",
                        {{"body", "champ en double"}});
  }
  if (parsed.is_discarded()) {
    throw invalid_input("Le corps de la requête n'est pas du JSON valide.",
                        {{"body", "JSON mal formé"}});
  }
  if (!parsed.is_object()) {
    throw invalid_input("Le corps de la requête doit être un objet JSON.",
                        {{"body", "objet JSON attendu"}});
  }
  if (depth_of(parsed, 0) > kMaxJsonDepth) {
    throw invalid_input("Le JSON est trop imbriqué.", {{"body", "imbrication trop profonde"}});
  }
  return parsed;
}

BodyReader::BodyReader(const Json& object, std::initializer_list<std::string_view> allowed,
                       std::initializer_list<std::string_view> forbidden)
    : object_(object) {
  check_fields(std::vector<std::string_view>(allowed), std::vector<std::string_view>(forbidden));
}

BodyReader::BodyReader(const Json& object, const std::vector<std::string_view>& allowed,
                       const std::vector<std::string_view>& forbidden)
    : object_(object) {
  check_fields(allowed, forbidden);
}

void BodyReader::check_fields(const std::vector<std::string_view>& allowed,
                              const std::vector<std::string_view>& forbidden) {
  for (const auto& [key, value] : object_.items()) {
    if (std::find(forbidden.begin(), forbidden.end(), key) != forbidden.end()) {
      add_error(key, "ce champ ne peut pas être défini par le client");
    } else if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      add_error(key, "champ inconnu");
    }
  }
}

const Json* BodyReader::get(std::string_view field) const {
  auto it = object_.find(std::string(field));
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool BodyReader::has(std::string_view field) const {
  return object_.contains(std::string(field));
}

void BodyReader::add_error(std::string field, std::string message) {
  errors_.push_back({std::move(field), std::move(message)});
}

std::optional<std::string> BodyReader::text(std::string_view field, std::size_t max_code_points) {
  const Json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    add_error(std::string(field), "doit être une chaîne de caractères");
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (code_points(s) > max_code_points) {
    add_error(std::string(field),
              "ne doit pas dépasser " + std::to_string(max_code_points) + " caractères");
    return std::nullopt;
  }
  if (has_control_character(s)) {
    add_error(std::string(field), kControlCharacterMessage);
    return std::nullopt;
  }
  return s;
}

std::string BodyReader::required_text(std::string_view field, std::size_t max_code_points) {
  if (!get(field)) {
    add_error(std::string(field), "champ obligatoire");
    return {};
  }
  return text(field, max_code_points).value_or("");
}

std::optional<int64_t> BodyReader::integer(std::string_view field, int64_t low, int64_t high) {
  const Json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    add_error(std::string(field), "doit être un nombre entier");
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    add_error(std::string(field), "valeur hors limites");
    return std::nullopt;
  }
  int64_t n = v->get<int64_t>();
  if (n < low || n > high) {
    add_error(std::string(field),
              "doit être compris entre " + std::to_string(low) + " et " + std::to_string(high));
    return std::nullopt;
  }
  return n;
}

int64_t BodyReader::required_integer(std::string_view field, int64_t low, int64_t high) {
  if (!get(field)) {
    add_error(std::string(field), "champ obligatoire");
    return low;
  }
  return integer(field, low, high).value_or(low);
}

std::optional<double> BodyReader::number(std::string_view field, double low, double high) {
  const Json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    add_error(std::string(field), "doit être un nombre");
    return std::nullopt;
  }
  double d = v->get<double>();
  if (!std::isfinite(d) || d < low || d > high) {
    add_error(std::string(field), "doit être compris entre " + std::to_string(low).substr(0, 8) +
                                      " et " + std::to_string(high).substr(0, 8));
    return std::nullopt;
  }
  return d;
}

std::optional<bool> BodyReader::boolean(std::string_view field) {
  const Json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    add_error(std::string(field), "doit être true ou false");
    return std::nullopt;
  }
  return v->get<bool>();
}

// In lower case, as every id is stored and compared: "ABC…" and "abc…" are one UUID, and a
// client's retry in upper case must find what its first try made (one transfer, not two).
std::optional<std::string> BodyReader::uuid(std::string_view field) {
  auto s = text(field, 64);
  if (s && !is_uuid(*s)) {
    add_error(std::string(field), "doit être un identifiant UUID");
    return std::nullopt;
  }
  if (s) {
    for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string BodyReader::required_uuid(std::string_view field) {
  if (!get(field)) {
    add_error(std::string(field), "champ obligatoire");
    return {};
  }
  return uuid(field).value_or("");
}

std::optional<std::vector<std::string>> BodyReader::text_list(std::string_view field,
                                                              std::size_t max_items,
                                                              std::size_t max_code_points) {
  const Json* v = get(field);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    add_error(std::string(field), "doit être une liste");
    return std::nullopt;
  }
  if (v->size() > max_items) {
    add_error(std::string(field), "au plus " + std::to_string(max_items) + " éléments");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (!item.is_string()) {
      add_error(name, "doit être une chaîne de caractères");
    } else if (code_points(item.get_ref<const std::string&>()) > max_code_points) {
      add_error(name, "ne doit pas dépasser " + std::to_string(max_code_points) + " caractères");
    } else if (has_control_character(item.get_ref<const std::string&>())) {
      add_error(name, kControlCharacterMessage);
    } else {
      out.push_back(item.get<std::string>());
    }
  }
  return out;
}

std::optional<BodyReader::LatLon> BodyReader::location(std::string_view field) {
  const Json* v = get(field);
  if (!v) return std::nullopt;
  std::string f(field);
  if (!v->is_object()) {
    add_error(f, "doit être un objet {lat, lon}");
    return std::nullopt;
  }
  std::size_t before = errors_.size();
  for (const auto& [key, value] : v->items()) {
    if (key != "lat" && key != "lon")
      add_error(std::string(f).append(".").append(key), "champ inconnu");
  }
  auto read = [&](const char* name, double limit) -> std::optional<double> {
    auto it = v->find(name);
    if (it == v->end() || it->is_null()) {
      add_error(f + "." + name, "champ obligatoire");
      return std::nullopt;
    }
    if (!it->is_number() || !std::isfinite(it->get<double>()) ||
        std::abs(it->get<double>()) > limit) {
      add_error(f + "." + name, "doit être un nombre entre -" + std::to_string(int(limit)) +
                                    " et " + std::to_string(int(limit)));
      return std::nullopt;
    }
    return it->get<double>();
  };
  auto lat = read("lat", 90);
  auto lon = read("lon", 180);
  if (errors_.size() != before || !lat || !lon) return std::nullopt;
  return LatLon{*lat, *lon};
}

const Json* BodyReader::object(std::string_view field) {
  const Json* v = get(field);
  if (v && !v->is_object()) {
    add_error(std::string(field), "doit être un objet");
    return nullptr;
  }
  return v;
}

void BodyReader::finish() const {
  if (!errors_.empty()) throw invalid_input("Certains champs sont invalides.", errors_);
}

}  // namespace maillon
