#include "services/common/events_listings.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

constexpr EnumName<ListingChange> kListingChanges[] = {{ListingChange::published, "published"},
                                                       {ListingChange::updated, "updated"},
                                                       {ListingChange::closed, "closed"}};
constexpr EnumName<ListingSide> kListingSides[] = {{ListingSide::offer, "offer"},
                                                   {ListingSide::request, "request"}};
constexpr EnumName<ListingCloseReason> kReasons[] = {{ListingCloseReason::closed, "closed"},
                                                     {ListingCloseReason::expired, "expired"},
                                                     {ListingCloseReason::completed, "completed"},
                                                     {ListingCloseReason::withdrawn, "withdrawn"}};
constexpr EnumName<int> kKinds[] = {{0, "good"}, {1, "service"}};
constexpr EnumName<int> kSources[] = {{0, "member"}, {1, "site"}};

std::optional<double> number_in(EventFields& f, const nlohmann::json* object, const char* name,
                                const std::string& where) {
  if (!object) return std::nullopt;
  const auto it = object->find(name);
  if (it == object->end() || !it->is_number()) {
    f.fail("field " + where + name + " is not a number_in");
    return std::nullopt;
  }
  return it->get<double>();
}

std::vector<std::string> string_list(EventFields& f, const char* name) {
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

constexpr auto kTexts = std::tuple{
    event_field("category", &ListingStreamEvent::category, &EventFields::optional_text,
                WhenUnset::null),
    event_field("title", &ListingStreamEvent::title, &EventFields::optional_text, WhenUnset::null),
    event_field("description", &ListingStreamEvent::description, &EventFields::optional_text,
                WhenUnset::null)};
constexpr auto kTerms =
    std::tuple{event_field("price_minutes", &ListingStreamEvent::price_minutes,
                           &EventFields::optional_integer, WhenUnset::null),
               event_field("duration_minutes", &ListingStreamEvent::duration_minutes,
                           &EventFields::optional_integer, WhenUnset::null),
               event_field("available_from", &ListingStreamEvent::available_from,
                           &EventFields::optional_text, WhenUnset::null),
               event_field("available_until", &ListingStreamEvent::available_until,
                           &EventFields::optional_text, WhenUnset::null),
               event_field("deposit_minutes", &ListingStreamEvent::deposit_minutes,
                           &EventFields::optional_integer, WhenUnset::null),
               event_field("capacity", &ListingStreamEvent::capacity,
                           &EventFields::optional_integer, WhenUnset::null)};
constexpr auto kStamps = std::tuple{event_field("created_at", &ListingStreamEvent::created_at,
                                                &EventFields::optional_text, WhenUnset::null),
                                    event_field("updated_at", &ListingStreamEvent::updated_at,
                                                &EventFields::optional_text, WhenUnset::null)};

template <class V>
void put_or_null(nlohmann::json& data, const char* name, const std::optional<V>& value) {
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
  return std::string(to_string(side)) + "." + std::string(enum_name(kListingChanges, change));
}

Read<ListingStreamEvent> ListingStreamEvent::read(const Event& e) {
  const auto dot = e.type.find('.');
  const auto side = enum_from_name(kListingSides, e.type.substr(0, dot));
  const auto change = dot == std::string::npos
                          ? std::nullopt
                          : enum_from_name(kListingChanges, e.type.substr(dot + 1));
  auto read = [&](EventFields& f, ListingStreamEvent& l) {
    l.side = *side;
    l.change = *change;
    l.id = f.uuid("id");
    if (l.change == ListingChange::closed) {
      l.member_id = f.optional_uuid("member_id").value_or("");
      if (auto reason = f.optional_enumeration("reason", kReasons)) l.reason = *reason;
      l.acted_by = f.optional_uuid("acted_by");
      l.revision = f.optional_integer("revision");
      return;
    }
    l.member_id = f.uuid("member_id");
    l.community_id = f.uuid("community_id");
    if (auto status = f.parsed("status", parse_listing_status)) l.status = *status;
    l.kind = one_of(f, "kind", kKinds);
    l.mode = f.optional_parsed("mode", parse_listing_mode);
    read_fields(f, l, kTexts);
    l.tags = string_list(f, "tags");
    l.site_id = f.optional_uuid("site_id");
    const nlohmann::json* location = f.raw("location");
    if (location && !location->is_object()) f.fail("field location is not an object");
    if (location && location->is_object()) {
      l.lat = number_in(f, location, "lat", "location.");
      l.lon = number_in(f, location, "lon", "location.");
    }
    l.location_source = one_of(f, "location_source", kSources);
    if (const nlohmann::json* reach = f.raw("reach_km")) {
      if (!reach->is_number())
        f.fail("field reach_km is not a number_in");
      else
        l.reach_km = reach->get<double>();
    }
    read_fields(f, l, kTerms);
    l.visibility = f.optional_parsed("visibility", parse_listing_visibility);
    l.photos = string_list(f, "photos");
    read_fields(f, l, kStamps);
    l.acted_by = f.optional_uuid("acted_by");
    l.hidden = f.optional_boolean("hidden").value_or(false);
    l.revision = f.optional_integer("revision");
  };
  return read_event<ListingStreamEvent>(e, side && change, "not a listing event: ", read);
}

nlohmann::json ListingStreamEvent::data() const {
  nlohmann::json data = {{"id", id}, {"side", to_string(side)}, {"member_id", member_id}};
  put_or_null(data, "acted_by", acted_by);
  if (revision) data["revision"] = *revision;
  if (change == ListingChange::closed) {
    data["reason"] = to_string(reason);
    return data;
  }
  data["community_id"] = community_id;
  data["status"] = to_string(status);
  put_or_null(data, "kind", kind);
  if (mode)
    data["mode"] = to_string(*mode);
  else
    data["mode"] = nullptr;
  write_fields(data, *this, kTexts);
  data["tags"] = tags;
  put_or_null(data, "site_id", site_id);
  if (lat && lon) data["location"] = {{"lat", *lat}, {"lon", *lon}};
  put_or_null(data, "location_source", location_source);
  put_or_null(data, "reach_km", reach_km);
  write_fields(data, *this, kTerms);
  if (visibility) data["visibility"] = to_string(*visibility);
  data["photos"] = photos;
  write_fields(data, *this, kStamps);
  if (hidden) data["hidden"] = true;
  return data;
}

}  // namespace maillon
