// Routes of the matching service: a member's matches, dismissing one, and what is near a point.
// Each handler reads its input, calls one use case (usecases.hpp) and writes the answer, with
// bucketed distances only, never another member's position.
#include <cmath>
#include <cstdlib>

#include "exchange/listing.hpp"
#include "services/common/errors.hpp"
#include "services/common/json_body.hpp"
#include "services/common/pagination.hpp"
#include "services/common/service.hpp"
#include "services/matching/messages.hpp"
#include "services/matching/repository.hpp"
#include "services/matching/usecases.hpp"
#include "services/matching/wiring.hpp"

namespace maillon::matching_service {
namespace {

constexpr double kNearbyRadiusKmMax = 50;  // the largest reach a listing may have
constexpr double kNearbyRadiusKmDefault = 5;
constexpr std::size_t kQueryTextMax = 200;

Json match_json(const repo::MatchRow& m) {
  return {{"id", m.id},       {"offer_id", m.offer_id},     {"request_id", m.request_id},
          {"score", m.score}, {"distance_m", m.distance_m}, {"status", m.status}};
}

Json page_json(const std::vector<repo::MatchRow>& rows, std::optional<std::string> next) {
  Json items = Json::array();
  for (const auto& m : rows) items.push_back(match_json(m));
  return {{"items", items}, {"next_cursor", next ? Json(*next) : Json(nullptr)}};
}

// "offer:<uuid>" or "request:<uuid>" → (side, id).
std::optional<std::pair<std::string, std::string>> parse_listing_ref(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string side = text.substr(0, colon), id = text.substr(colon + 1);
  if ((side != "offer" && side != "request") || !is_uuid(id)) return std::nullopt;
  return std::make_pair(side, id);
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(value)) return std::nullopt;
  return value;
}

class MatchRoutes : ServiceApi<MatchingUseCases> {
 public:
  MatchRoutes(Service& s, std::shared_ptr<MatchIndex> index) : ServiceApi(s, s, std::move(index)) {}

  Response list(const Request& req) {
    const Identity who = s_.auth.require(req);
    const PageRequest page = page_request(req);
    const auto listing = req.query_value("listing");
    const auto member = req.query_value("member");
    if (listing && member) throw problem(MatchingCode::listing_with_member);
    if (listing) return of_listing(who, *listing, page);
    if (member && *member == "me") return of_member(who, page);
    if (member) throw problem(MatchingCode::member_not_me);
    throw problem(MatchingCode::listing_or_member_missing);
  }

  Response dismiss(const Request& req) {
    const Identity who = s_.auth.require(req);
    settled(uc_.dismiss(who, req.param("id")));
    return Response::no_content();
  }

  Response nearby(const Request& req) {
    const Identity who = s_.auth.require(req);
    const PageRequest page = page_request(req);
    NearbyInput in = nearby_input(req);
    in.k = static_cast<std::size_t>(page.limit);
    return nearby_answer(settled(uc_.nearby(who, std::move(in))));
  }

 private:
  Response of_listing(const Identity& who, const std::string& text, const PageRequest& page) {
    const auto ref = parse_listing_ref(text);
    if (!ref) throw problem(MatchingCode::invalid_listing_ref);
    const auto rows = settled(uc_.matches_of_listing(who, {ref->first, ref->second}, page.limit));
    return json_response(200, page_json(rows, std::nullopt));
  }

  Response of_member(const Identity& who, const PageRequest& page) {
    int64_t offset = 0;
    if (!page.cursor.empty()) {
      const auto parsed = parse_number(page.cursor);
      if (!parsed || *parsed < 0 || *parsed > 1e9) throw problem(MatchingCode::invalid_cursor);
      offset = static_cast<int64_t>(*parsed);
    }
    auto found = settled(uc_.matches_of_member(who, offset, page.limit));
    std::optional<std::string> next;
    if (found.next_offset) next = encode_cursor(std::to_string(*found.next_offset));
    return json_response(200, page_json(found.rows, next));
  }

  NearbyInput nearby_input(const Request& req) {
    NearbyInput in;
    FieldErrors errors;
    auto number = [&](const char* field, double low, double high, std::optional<double> fallback) {
      const auto text = req.query_value(field);
      if (!text && fallback) return *fallback;
      const auto value = text ? parse_number(*text) : std::nullopt;
      if (!value || *value < low || *value > high) {
        errors.push_back(number_out_of_range(field, int(low), int(high)));
        return low;
      }
      return *value;
    };
    in.at.lat = number("lat", -matching::kMaxAbsLatDeg, matching::kMaxAbsLatDeg, std::nullopt);
    in.at.lon = number("lon", -180, 179.9999999, std::nullopt);
    const double radius_km = number("radius_km", 0.1, kNearbyRadiusKmMax, kNearbyRadiusKmDefault);
    in.radius_m = static_cast<uint32_t>(std::lround(radius_km * 1000));
    in.category = req.query_value("category");
    if (in.category && !uc_.knows_category(*in.category))
      errors.push_back(field_error(MatchingCode::unknown_category));
    if (const auto kind = req.query_value("kind")) {
      if (*kind == "offer")
        in.side = matching::Side::offer;
      else if (*kind == "request")
        in.side = matching::Side::request;
      else
        errors.push_back(field_error(MatchingCode::invalid_kind));
    }
    in.words = req.query_value("q").value_or("");
    if (in.words.size() > kQueryTextMax)
      errors.push_back(field_error(MatchingCode::query_text_too_long));
    if (!errors.empty()) throw problem(MatchingCode::invalid_parameters, errors);
    return in;
  }

  Response nearby_answer(const std::vector<NearbyItem>& found) {
    Json items = Json::array();
    for (const auto& [l, distance_m] : found) {
      items.push_back({{"id", l.id},
                       {"side", l.side},
                       {"member_id", l.member_id},
                       {"category", l.category},
                       {"title", l.title},
                       {"kind", l.kind},
                       {"mode", l.mode},
                       {"status", l.status},
                       {"distance_m", distance_bucket_m(distance_m)},
                       {"area", {{"lat", l.area_lat}, {"lon", l.area_lon}}}});
    }
    return json_response(200, Json{{"items", items}, {"next_cursor", nullptr}});
  }
};

}  // namespace

void register_routes(Service& s, const std::shared_ptr<MatchIndex>& index) {
  // Every handler holds the routes object, so it lives as long as the server's routes.
  auto routes = std::make_shared<MatchRoutes>(s, index);
  s.http.route("GET", "/v1/matches", [routes](const Request& r) { return routes->list(r); });
  s.http.route("POST", "/v1/matches/{id}/dismiss",
               [routes](const Request& r) { return routes->dismiss(r); });
  s.http.route("GET", "/v1/nearby", [routes](const Request& r) { return routes->nearby(r); });
}

void register_service(Service& s) {
  auto index =
      std::make_shared<MatchIndex>(load_category_ids(s.config.schemas_dir + "/categories.json"));
  // The follower lives in the start hook, which the service keeps until it is destroyed.
  auto follower = std::make_shared<IndexFollower>(s, index);
  s.on_start([&s, index, follower] {
    follower->start(rebuild_index(s, *index), std::chrono::milliseconds(200));
  });
  register_consumers(s, index);
  register_routes(s, index);
}

}  // namespace maillon::matching_service
