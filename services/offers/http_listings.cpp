// Routes of a listing service (/v1/offers or /v1/requests, and /v1/categories on offers): each
// handler reads its input, calls one use case (usecases.hpp), and writes the answer; refusals
// become problems through messages.cpp.
#include <cmath>
#include <cstdlib>

#include "matching/geo.hpp"
#include "services/common/auth.hpp"
#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/offers/context.hpp"
#include "services/offers/depot_items.hpp"
#include "services/offers/listing_json.hpp"
#include "services/offers/messages.hpp"
#include "services/offers/search_index.hpp"
#include "services/offers/usecases.hpp"

namespace maillon::listings {
namespace {

constexpr double kRadiusKmDefault = 10;
constexpr double kRadiusKmMax = 100;
constexpr std::size_t kSearchTextCodePointsMax = 200;

std::optional<double> parse_double(const std::string& text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(value)) return std::nullopt;
  return value;
}

// near=lat,lon and radius_km: the point snapped like every stored position.
void read_near(const Request& r, ListQuery& q, FieldErrors& errors) {
  auto near = r.query_value("near");
  auto radius = r.query_value("radius_km");
  if (!near) {
    if (radius) errors.push_back(field_error(ListingCode::radius_without_near));
    return;
  }
  auto comma = near->find(',');
  auto lat = comma == std::string::npos ? std::nullopt : parse_double(near->substr(0, comma));
  auto lon = comma == std::string::npos ? std::nullopt : parse_double(near->substr(comma + 1));
  if (!lat || !lon || std::abs(*lat) > 90 || std::abs(*lon) > 180) {
    errors.push_back(field_error(ListingCode::invalid_near));
    return;
  }
  double radius_km = kRadiusKmDefault;
  if (radius) {
    auto value = parse_double(*radius);
    if (!value || *value <= 0 || *value > kRadiusKmMax) {
      errors.push_back(field_error(ListingCode::invalid_radius));
      return;
    }
    radius_km = *value;
  }
  matching::GeoPoint snapped = matching::snap_to_grid({*lat, *lon});
  q.near = ListingLocation{snapped.lat, snapped.lon};
  q.radius_m = radius_km * 1000;
}

void read_uuid_filter(const Request& r, const char* name, ListingCode fault,
                      std::optional<std::string>& out, FieldErrors& errors) {
  out = r.query_value(name);
  if (out && !is_uuid(*out)) errors.push_back(field_error(fault));
}

void read_enums(const Request& r, ListQuery& q, FieldErrors& errors) {
  if (auto status = r.query_value("status")) {
    if (!parse_listing_status(*status)) {
      errors.push_back(field_error(ListingCode::invalid_status_filter));
    }
    q.status = *status;
  }
  q.kind = r.query_value("kind");
  if (q.kind && !parse_listing_kind(*q.kind)) {
    errors.push_back(field_error(ListingCode::invalid_kind_filter));
  }
  q.mode = r.query_value("mode");
  if (q.mode && !parse_listing_mode(*q.mode)) {
    errors.push_back(field_error(ListingCode::invalid_mode_filter));
  }
}

// "<created_at in µs>|<id>", what encode_cursor wrapped after the previous page.
void read_cursor(const PageRequest& page, ListQuery& q, FieldErrors& errors) {
  if (page.cursor.empty()) return;
  auto bar = page.cursor.find('|');
  std::string id = bar == std::string::npos ? "" : page.cursor.substr(bar + 1);
  char* end = nullptr;
  long long us = std::strtoll(page.cursor.substr(0, bar).c_str(), &end, 10);
  if (bar == 0 || bar == std::string::npos || *end != '\0' || !is_uuid(id)) {
    errors.push_back(field_error(ListingCode::invalid_cursor));
    return;
  }
  q.after = std::pair<int64_t, std::string>{us, id};
}

ListQuery parse_list_query(const Request& r, const Identity& who, const CategoryTree& tree) {
  ListQuery q;
  FieldErrors errors;
  q.community_id = who.community_id;
  q.hidden_shown_to = who.member_id;
  PageRequest page = page_request(r);
  q.limit = page.limit + 1;  // one more tells whether there is a next page
  read_cursor(page, q, errors);
  if (auto text = r.query_value("q"); text && !text->empty()) {
    const auto characters = utf8_code_points(*text);
    if (!characters) {
      errors.push_back(field_error(ListingCode::search_text_not_utf8));
    } else if (*characters > kSearchTextCodePointsMax) {
      errors.push_back(field_error(ListingCode::search_text_too_long));
    }
    q.text = text;
  }
  if (auto category = r.query_value("category")) {
    if (!tree.find(*category)) errors.push_back(field_error(ListingCode::unknown_category));
    q.categories = tree.self_and_descendants(*category);
  }
  read_enums(r, q, errors);
  read_uuid_filter(r, "site_id", ListingCode::invalid_site_filter, q.site_id, errors);
  if (r.query_value("member_id") == "me") {
    q.member_id = who.member_id;
  } else {
    read_uuid_filter(r, "member_id", ListingCode::invalid_member_filter, q.member_id, errors);
  }
  read_near(r, q, errors);
  if (!errors.empty()) throw problem(ListingCode::invalid_parameters, errors);
  return q;
}

// A listing of a page: the view rendered when it was written, with this search's distance;
// rendered now when the page came from PostgreSQL.
void append_view(std::string& body, const SearchHit& hit, const Identity& who) {
  Audience shown_to = can_edit(who, *hit.row) ? Audience::editor : Audience::community;
  const auto& kept = shown_to == Audience::editor ? hit.editor_json : hit.community_json;
  if (!kept) {
    ListingRow row = *hit.row;
    row.distance_m = hit.distance_m;
    body += listing_view(row, shown_to).dump();
    return;
  }
  if (!hit.distance_m) {
    body += *kept;
    return;
  }
  body.append(*kept, 0, kept->size() - 1);  // the object without its closing brace
  body += ",\"distance_m\":" + std::to_string(distance_bucket_m(*hit.distance_m)) + "}";
}

std::string page_body(const SearchPage& page, const Identity& who) {
  const auto& hits = page.hits;
  std::size_t shown = std::min(hits.size(), static_cast<std::size_t>(page.limit));
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) body += ',';
    append_view(body, hits[i], who);
  }
  body += "],\"next_cursor\":";
  if (hits.size() > shown) {
    const ListingRow& last = *hits[shown - 1].row;
    body +=
        nlohmann::json(encode_cursor(std::to_string(last.created_at_us) + "|" + last.listing.id))
            .dump();
  } else {
    body += "null";
  }
  body += '}';
  return body;
}

class ListingApi : ServiceApi<ListingUseCases> {
 public:
  explicit ListingApi(std::shared_ptr<const ListingContext> context)
      : ServiceApi(context->service, context), c_(std::move(context)) {}

  void routes(const std::shared_ptr<ListingApi>& self) {
    const RouteBinder bind(s_.http, self);
    const std::string& base = c_->config.path;
    bind("POST", base, &ListingApi::create);
    bind("GET", base, &ListingApi::list);
    bind("GET", base + "/{id}", &ListingApi::get_one);
    bind("PATCH", base + "/{id}", &ListingApi::patch);
    bind("DELETE", base + "/{id}", &ListingApi::close);
    if (c_->config.serve_categories) {
      std::string body =
          nlohmann::json{{"items", category_tree_json(c_->tree)}, {"next_cursor", nullptr}}.dump();
      s_.http.route("GET", "/v1/categories",
                    [body](const Request&) { return Response::json_text(200, body); });
    }
  }

 private:
  std::shared_ptr<const ListingContext> c_;

  Response create(const Request& r) {
    Identity who = s_.auth.require(r);
    ListingDraft draft = parse_draft(r.body);
    return json_response(201, listing_view(settled(uc_.create(who, draft)), Audience::editor));
  }

  Response list(const Request& r) {
    Identity who = s_.auth.require(r);
    ListQuery q = parse_list_query(r, who, c_->tree);
    return Response::json_text(200, page_body(settled(uc_.search(q)), who));
  }

  Response get_one(const Request& r) {
    Identity who = s_.auth.require(r);
    auto seen = settled(uc_.get(who, r.param("id")));
    return json_response(
        200, listing_view(seen.row, seen.editor ? Audience::editor : Audience::community));
  }

  Response patch(const Request& r) {
    Identity who = s_.auth.require(r);
    admit(uc_.may_write(who));
    ListingPatch patch = parse_patch(r.body);
    return json_response(
        200, listing_view(settled(uc_.patch(who, r.param("id"), patch)), Audience::editor));
  }

  Response close(const Request& r) {
    Identity who = s_.auth.require(r);
    settled(uc_.close(who, r.param("id")));
    return Response::no_content();
  }
};

}  // namespace

void register_routes(const std::shared_ptr<const ListingContext>& context) {
  auto api = std::make_shared<ListingApi>(context);
  api->routes(api);
}

}  // namespace maillon::listings
