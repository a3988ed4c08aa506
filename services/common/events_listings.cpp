#include "services/common/events_listings.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

constexpr EnumName<ListingChange> kChanges[] = {{ListingChange::published, "published"},
                                                {ListingChange::updated, "updated"},
                                                {ListingChange::closed, "closed"}};
constexpr EnumName<ListingSide> kSides[] = {{ListingSide::offer, "offer"},
                                            {ListingSide::request, "request"}};
constexpr EnumName<ListingCloseReason> kReasons[] = {{ListingCloseReason::closed, "closed"},
                                                     {ListingCloseReason::expired, "expired"},
                                                     {ListingCloseReason::completed, "completed"},
                                                     {ListingCloseReason::withdrawn, "withdrawn"}};
constexpr EnumName<int> kKinds[] = {{0, "good"}, {1, "service"}};
constexpr EnumName<int> kSources[] = {{0, "member"}, {1, "site"}};

std::optional<ListingStatus> status_of(std::string_view text) {
  return parse_listing_status(text);
}
std::optional<ListingMode> mode_of(std::string_view text) {
  return parse_listing_mode(text);
}

std::optional<double> number(EventFields& f, const nlohmann::json* object, const char* name,
                             const std::string& where) {
  if (!object) return std::nullopt;
  const auto it = object->find(name);
  if (it == object->end() || !it->is_number()) {
    f.fail("field " + where + name + " is not a number");
    return std::nullopt;
  }
  return it->get<double>();
}

std::vector<std::string> strings(EventFields& f, const char* name) {
  std::vector<std::string> out;
  const nlohmann::json* list = f.raw(name);
  if (!list) return out;
  if (!list->is_array()) {
    f.fail(std::string("field ") + name + " is not an array");
    return out;
  }
  for (const auto& item : *list) {
    if (!item.is_string()) {
      f.fail(std::string("field ") + name + " holds a non-string");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// An optional text that must be one of a table's names.
std::optional<std::string> one_of(EventFields& f, const char* name,
                                  std::span<const EnumName<int>> table) {
  auto value = f.optional_text(name);
  if (value && !enum_from_name(table, *value))
    f.fail("unknown " + std::string(name) + " \"" + *value + "\"");
  return value;
}

template <class V>
void put(nlohmann::json& data, const char* name, const std::optional<V>& value) {
  data[name] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

std::string_view to_string(ListingCloseReason reason) {
  return enum_name(kReasons, reason);
}

std::optional<ListingCloseReason> listing_close_reason(std::string_view text) {
  return enum_from_name(kReasons, text);
}

std::string ListingStreamEvent::type_name() const {
  return std::string(to_string(side)) + "." + std::string(enum_name(kChanges, change));
}

Read<ListingStreamEvent> ListingStreamEvent::read(const Event& e) {
  ListingStreamEvent l;
  const auto dot = e.type.find('.');
  const auto side = enum_from_name(kSides, e.type.substr(0, dot));
  const auto change =
      dot == std::string::npos ? std::nullopt : enum_from_name(kChanges, e.type.substr(dot + 1));
  if (!side || !change) return ReadFailure{"not a listing event: \"" + e.type + "\""};
  l.side = *side;
  l.change = *change;
  EventFields f(e.data);
  l.id = f.uuid("id");
  if (l.change == ListingChange::closed) {
    l.member_id = f.optional_uuid("member_id").value_or("");
    if (auto reason = f.optional_enumeration("reason", kReasons)) l.reason = *reason;
    l.acted_by = f.optional_uuid("acted_by");
    return f.finish(std::move(l));
  }
  l.member_id = f.uuid("member_id");
  l.community_id = f.uuid("community_id");
  if (auto status = f.parsed("status", status_of)) l.status = *status;
  l.kind = one_of(f, "kind", kKinds);
  l.mode = f.optional_parsed("mode", mode_of);
  l.category = f.optional_text("category");
  l.title = f.optional_text("title");
  l.description = f.optional_text("description");
  l.tags = strings(f, "tags");
  l.site_id = f.optional_uuid("site_id");
  const nlohmann::json* location = f.raw("location");
  if (location && !location->is_object()) f.fail("field location is not an object");
  if (location && location->is_object()) {
    l.lat = number(f, location, "lat", "location.");
    l.lon = number(f, location, "lon", "location.");
  }
  l.location_source = one_of(f, "location_source", kSources);
  if (const nlohmann::json* reach = f.raw("reach_km")) {
    if (!reach->is_number())
      f.fail("field reach_km is not a number");
    else
      l.reach_km = reach->get<double>();
  }
  l.price_minutes = f.optional_integer("price_minutes");
  l.duration_minutes = f.optional_integer("duration_minutes");
  l.available_from = f.optional_text("available_from");
  l.available_until = f.optional_text("available_until");
  l.photos = strings(f, "photos");
  l.created_at = f.optional_text("created_at");
  l.updated_at = f.optional_text("updated_at");
  l.acted_by = f.optional_uuid("acted_by");
  l.hidden = f.optional_boolean("hidden").value_or(false);
  return f.finish(std::move(l));
}

nlohmann::json ListingStreamEvent::data() const {
  nlohmann::json data = {{"id", id}, {"side", to_string(side)}, {"member_id", member_id}};
  put(data, "acted_by", acted_by);
  if (change == ListingChange::closed) {
    data["reason"] = to_string(reason);
    return data;
  }
  data["community_id"] = community_id;
  data["status"] = to_string(status);
  put(data, "kind", kind);
  if (mode)
    data["mode"] = to_string(*mode);
  else
    data["mode"] = nullptr;
  put(data, "category", category);
  put(data, "title", title);
  put(data, "description", description);
  data["tags"] = tags;
  put(data, "site_id", site_id);
  if (lat && lon) data["location"] = {{"lat", *lat}, {"lon", *lon}};
  put(data, "location_source", location_source);
  put(data, "reach_km", reach_km);
  put(data, "price_minutes", price_minutes);
  put(data, "duration_minutes", duration_minutes);
  put(data, "available_from", available_from);
  put(data, "available_until", available_until);
  data["photos"] = photos;
  put(data, "created_at", created_at);
  put(data, "updated_at", updated_at);
  if (hidden) data["hidden"] = true;
  return data;
}

}  // namespace maillon
