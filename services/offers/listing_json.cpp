// Listing JSON: decoding of create and PATCH bodies (types only: the rules live in
// exchange/listing.hpp), API views with the privacy rounding, and event payloads.
#include "services/offers/listing_json.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/offers/depot_items.hpp"
#include "services/offers/messages.hpp"

namespace maillon::listings {
namespace {

// Decodes one body's values by JSON type; every mismatch becomes a field error.
class Decoder {
 public:
  explicit Decoder(const Json& body) : body_(body) {}

  bool present(const char* field) const { return body_.contains(field); }
  bool is_null(const char* field) const { return present(field) && body_.at(field).is_null(); }
  const Json* value(const char* field) const {
    return present(field) && !body_.at(field).is_null() ? &body_.at(field) : nullptr;
  }

  std::optional<std::string> text(const char* field) {
    const Json* v = value(field);
    if (!v) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    return fail(field, "doit être une chaîne de caractères");
  }

  std::optional<std::vector<std::string>> texts(const char* field) {
    const Json* v = value(field);
    if (!v) return std::nullopt;
    if (!v->is_array()) return fail(field, "doit être une liste de chaînes de caractères");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        errors.push_back({std::string(field) + "[" + std::to_string(i) + "]",
                          "doit être une chaîne de caractères"});
        continue;
      }
      out.push_back((*v)[i].get<std::string>());
    }
    return out;
  }

  std::optional<int64_t> integer(const char* field) {
    const Json* v = value(field);
    if (!v) return std::nullopt;
    if (v->is_number_integer()) return v->get<int64_t>();
    return fail(field, "doit être un nombre entier");
  }

  std::optional<double> number(const char* field) {
    const Json* v = value(field);
    if (!v) return std::nullopt;
    if (v->is_number()) return v->get<double>();
    return fail(field, "doit être un nombre");
  }

  std::optional<int64_t> time_s(const char* field) {
    std::optional<std::string> t = text(field);
    if (!t) return std::nullopt;
    if (auto s = parse_rfc3339_s(*t)) return s;
    return fail(field, "doit être une date RFC 3339 (2026-05-01T10:00:00Z)");
  }

  std::optional<ListingLocation> location(const char* field) {
    const Json* v = value(field);
    if (!v) return std::nullopt;
    if (!v->is_object()) return fail(field, "doit être un objet {lat, lon}");
    std::size_t before = errors.size();
    for (const auto& [key, item] : v->items()) {
      if (key != "lat" && key != "lon")
        errors.push_back({std::string(field) + "." + key, "champ inconnu"});
    }
    ListingLocation out;
    for (auto [name, slot] : {std::pair{"lat", &out.lat}, std::pair{"lon", &out.lon}}) {
      std::string path = std::string(field) + "." + name;
      if (!v->contains(name) || v->at(name).is_null()) {
        errors.push_back({path, "est obligatoire"});
      } else if (!v->at(name).is_number()) {
        errors.push_back({path, "doit être un nombre"});
      } else {
        *slot = v->at(name).get<double>();
      }
    }
    if (errors.size() != before) return std::nullopt;
    return out;
  }

  // PATCH: absent keeps, null clears, a value replaces.
  template <class Read>
  auto clearable(const char* field, Read read) -> Clearable<typename decltype(read())::value_type> {
    if (!present(field)) return std::nullopt;
    if (is_null(field)) return std::optional<typename decltype(read())::value_type>{};
    auto v = read();
    if (!v) return std::nullopt;
    return v;
  }

  void refuse_null(const char* field) {
    if (is_null(field)) errors.push_back({field, "ne peut pas être effacé (null)"});
  }

  FieldErrors errors;

 private:
  const Json& body_;
  std::nullopt_t fail(const char* field, const char* message) {
    errors.push_back({field, message});
    return std::nullopt;
  }
};

Json body_object(std::string_view body, ListingWrite write) {
  Json j = parse_json_object(body);
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  FieldErrors refused = refuse_unsettable_fields(keys, write);
  if (!refused.empty()) throw problem(ListingCode::unsettable_fields, refused);
  return j;
}

void finish(const Decoder& d) {
  if (!d.errors.empty()) throw problem(ListingCode::invalid_fields, d.errors);
}

Json nullable_text(const std::optional<std::string>& s) {
  return s ? Json(*s) : Json(nullptr);
}
Json nullable_time(const std::optional<int64_t>& s) {
  return s ? Json(format_rfc3339(*s)) : Json(nullptr);
}
Json point(const ListingLocation& p) {
  return {{"lat", p.lat}, {"lon", p.lon}};
}
double coarse(double degrees) {
  return coarse_degrees(degrees);  // exchange/listing.hpp: the rounding every service shares
}

// The fields every view and event share.
Json common_fields(const ListingRow& row) {
  const Listing& l = row.listing;
  Json j = listing_fields(l);
  j["available_from"] = nullable_time(l.available_from_s);
  j["available_until"] = nullable_time(l.available_until_s);
  j["created_at"] = format_rfc3339(l.created_at_s);
  j["updated_at"] = format_rfc3339(l.updated_at_s);
  return j;
}

}  // namespace

ListingDraft parse_draft(std::string_view body) {
  Json j = body_object(body, ListingWrite::create);
  Decoder d(j);
  ListingDraft draft{d.text("kind"),
                     d.text("mode"),
                     d.text("category"),
                     d.text("title"),
                     d.text("description"),
                     d.texts("tags"),
                     d.location("location"),
                     d.text("site_id"),
                     d.number("reach_km"),
                     d.integer("price_minutes"),
                     d.integer("duration_minutes"),
                     d.time_s("available_from"),
                     d.time_s("available_until"),
                     d.texts("photos"),
                     d.integer("deposit_minutes"),
                     d.integer("capacity"),
                     d.text("visibility")};
  finish(d);
  return draft;
}

ListingPatch parse_patch(std::string_view body) {
  Json j = body_object(body, ListingWrite::patch);
  Decoder d(j);
  for (const char* f : {"kind", "mode", "category", "title", "description", "tags", "reach_km",
                        "price_minutes", "photos", "status", "visibility"}) {
    d.refuse_null(f);
  }
  ListingPatch p;
  p.kind = d.text("kind");
  p.mode = d.text("mode");
  p.category = d.text("category");
  p.title = d.text("title");
  p.description = d.text("description");
  p.tags = d.texts("tags");
  p.location = d.clearable("location", [&] { return d.location("location"); });
  p.site_id = d.clearable("site_id", [&] { return d.text("site_id"); });
  p.reach_km = d.number("reach_km");
  p.price_minutes = d.integer("price_minutes");
  p.duration_minutes =
      d.clearable("duration_minutes", [&] { return d.integer("duration_minutes"); });
  p.available_from_s = d.clearable("available_from", [&] { return d.time_s("available_from"); });
  p.available_until_s = d.clearable("available_until", [&] { return d.time_s("available_until"); });
  p.photos = d.texts("photos");
  p.deposit_minutes = d.clearable("deposit_minutes", [&] { return d.integer("deposit_minutes"); });
  p.capacity = d.clearable("capacity", [&] { return d.integer("capacity"); });
  p.visibility = d.text("visibility");
  p.status = d.text("status");
  finish(d);
  return p;
}

Json listing_view(const ListingRow& row, Audience audience) {
  Json j = common_fields(row);
  if (audience == Audience::editor) {
    const auto& location = row.listing.location;
    j["location"] = location ? point(*location) : Json(nullptr);
    j["acted_by"] = nullable_text(row.acted_by);
    // Only editors ever see a hidden listing: they are told why others do not.
    if (row.hidden()) {
      j["hidden"] = true;
      j["hidden_reason"] = row.hidden_moderated ? "moderated" : "suspended";
    }
  }
  // A handover site is public; a member's own spot is shown to others only coarsely.
  j["area"] = {{"lat", coarse(row.position.lat)}, {"lon", coarse(row.position.lon)}};
  if (row.distance_m) j["distance_m"] = distance_bucket_m(*row.distance_m);
  // A depot item is reserved at the depot (POST /v1/items/{depot_item_id}/reserve), not
  // through an exchange: clients need to know which one it is.
  j["source"] = is_depot_listing(row.listing) ? "depot" : "member";
  if (is_depot_listing(row.listing)) j["depot_item_id"] = row.listing.id;
  // A partner installation's listing (issue 23): where it lives, and where to take it up.
  if (row.partner_url) j["partner_url"] = *row.partner_url;
  return j;
}

Json listing_event_data(const ListingRow& row) {
  Json j = common_fields(row);
  j["side"] = to_string(row.listing.side);
  j["location"] = point(row.position);
  j["location_source"] = row.listing.location ? "member" : "site";
  j["acted_by"] = nullable_text(row.acted_by);
  j["revision"] = row.revision;
  // Matching and exchange take a listing that is not active out of play: a hidden one is
  // announced as paused (whatever its own status, which only its editors see) and flagged.
  if (row.hidden()) {
    if (row.listing.status != ListingStatus::closed && row.listing.status != ListingStatus::expired)
      j["status"] = "paused";
    j["hidden"] = true;
  }
  return j;
}

Json closed_event_data(const ListingRow& row, std::string_view reason) {
  return {{"id", row.listing.id},
          {"member_id", row.listing.member_id},
          {"side", to_string(row.listing.side)},
          {"reason", reason},
          {"acted_by", nullable_text(row.acted_by)},
          {"revision", row.revision}};
}

}  // namespace maillon::listings
