// Routes of a listing service (/v1/offers or /v1/requests, and /v1/categories on offers): each
// handler reads its input, runs one use case in one transaction, and answers.
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
#include "services/offers/search_index.hpp"

namespace maillon::listings {
namespace {

constexpr double kRadiusKmDefault = 10;
constexpr double kRadiusKmMax = 100;
constexpr std::size_t kSearchTextCodePointsMax = 200;

ApiError listing_not_found() {
  return not_found("Annonce introuvable.");
}

ApiError member_suspended() {
  return ApiError(403, "member-suspended", "Action non autorisée",
                  "Ce compte est suspendu : il ne peut pas publier d'annonce.");
}

// A suspended member's sessions are revoked with the suspension; should one survive, or a staff
// member act for them, the identity still says so.
void refuse_suspended(const Identity& who) {
  if (who.status == "suspended") throw member_suspended();
}

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
    if (radius) errors.push_back({"radius_km", "s'emploie avec near=lat,lon"});
    return;
  }
  auto comma = near->find(',');
  auto lat = comma == std::string::npos ? std::nullopt : parse_double(near->substr(0, comma));
  auto lon = comma == std::string::npos ? std::nullopt : parse_double(near->substr(comma + 1));
  if (!lat || !lon || std::abs(*lat) > 90 || std::abs(*lon) > 180) {
    errors.push_back({"near", "doit valoir lat,lon (par exemple 50.63,3.06)"});
    return;
  }
  double radius_km = kRadiusKmDefault;
  if (radius) {
    auto value = parse_double(*radius);
    if (!value || *value <= 0 || *value > kRadiusKmMax) {
      errors.push_back({"radius_km", "doit être compris entre 0 et 100 km"});
      return;
    }
    radius_km = *value;
  }
  matching::GeoPoint snapped = matching::snap_to_grid({*lat, *lon});
  q.near = ListingLocation{snapped.lat, snapped.lon};
  q.radius_m = radius_km * 1000;
}

void read_uuid_filter(const Request& r, const char* name, std::optional<std::string>& out,
                      FieldErrors& errors) {
  out = r.query_value(name);
  if (out && !is_uuid(*out)) errors.push_back({name, "doit être un identifiant (UUID)"});
}

void read_enums(const Request& r, ListQuery& q, FieldErrors& errors) {
  if (auto status = r.query_value("status")) {
    if (!parse_listing_status(*status)) {
      errors.push_back({"status", "doit valoir active, paused, reserved, closed ou expired"});
    }
    q.status = *status;
  }
  q.kind = r.query_value("kind");
  if (q.kind && !parse_listing_kind(*q.kind)) {
    errors.push_back({"kind", "doit valoir « good » ou « service »"});
  }
  q.mode = r.query_value("mode");
  if (q.mode && !parse_listing_mode(*q.mode)) {
    errors.push_back({"mode", "doit valoir « give », « lend », « swap » ou « service »"});
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
    errors.push_back({"cursor", "curseur inconnu ou altéré"});
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
    if (utf8_code_points(*text).value_or(kSearchTextCodePointsMax + 1) > kSearchTextCodePointsMax) {
      errors.push_back({"q", "au plus 200 caractères"});
    }
    q.text = text;
  }
  if (auto category = r.query_value("category")) {
    if (!tree.find(*category)) errors.push_back({"category", "catégorie inconnue"});
    q.categories = tree.self_and_descendants(*category);
  }
  read_enums(r, q, errors);
  read_uuid_filter(r, "site_id", q.site_id, errors);
  if (r.query_value("member_id") == "me") {
    q.member_id = who.member_id;
  } else {
    read_uuid_filter(r, "member_id", q.member_id, errors);
  }
  read_near(r, q, errors);
  if (!errors.empty()) throw invalid_input("Certains paramètres sont invalides.", errors);
  return q;
}

class ListingApi {
 public:
  explicit ListingApi(std::shared_ptr<const ListingContext> context)
      : c_(std::move(context)), s_(c_->service) {}

  void routes(const std::shared_ptr<ListingApi>& self) {
    auto bind = [&](const char* method, const std::string& path,
                    Response (ListingApi::*fn)(const Request&)) {
      s_.http.route(method, path, [self, fn](const Request& r) { return (self.get()->*fn)(r); });
    };
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
  Service& s_;

  Audience audience(const Identity& who, const ListingRow& row) const {
    return can_edit(who, row) ? Audience::editor : Audience::community;
  }

  // The listing the caller may see, locked when it is about to change; 404 otherwise, so a
  // member of another community learns nothing, not even that the id exists.
  ListingRow visible(pqxx::transaction_base& tx, const Identity& who, const std::string& id,
                     bool lock) {
    if (!is_uuid(id)) throw listing_not_found();
    auto row = find_listing(tx, id, lock);
    if (!row || row->listing.community_id != who.community_id) throw listing_not_found();
    // Hidden (owner suspended, or moderated): only those who may edit it know it exists.
    if (row->hidden() && !can_edit(who, *row)) throw listing_not_found();
    return *row;
  }

  ListingRow editable(pqxx::work& tx, const Identity& who, const std::string& id) {
    ListingRow row = visible(tx, who, id, true);
    if (is_depot_listing(row.listing)) throw forbidden("Cet objet se gère au dépôt du lieu.");
    // 403: the caller reads this listing anyway (a hidden one was a 404 above).
    if (!can_edit(who, row)) {
      throw forbidden("Seuls son auteur et l'équipe de son lieu modifient cette annonce.");
    }
    return row;
  }

  Response create(const Request& r) {
    Identity who = s_.auth.require(r);
    ListingDraft draft = parse_draft(r.body);
    int64_t now_s = c_->now_s();
    FieldErrors errors = validate_new_listing(draft, c_->tree, now_s);
    if (!errors.empty()) throw invalid_input("Certains champs sont invalides.", errors);
    if (who.community_id.empty()) throw forbidden("Seuls les membres d'une communauté publient.");
    refuse_suspended(who);
    ListingRow row;
    row.listing = create_listing(
        draft, {new_uuid(), c_->config.side, who.member_id, who.community_id}, now_s);
    row.home_site_id = who.home_site_id;
    row.acted_by = acted_by(who, row);
    ListingRow stored = s_.db.transact([&](pqxx::work& tx) {
      // Serialised with the member's suspension or erasure as this service learns of it: either
      // that event sees this listing, or this sees the standing it recorded.
      lock_member(tx, who.member_id);
      if (owner_standing(tx, who.member_id) != OwnerStanding::active) throw member_suspended();
      ListingRow placed = row;
      place(tx, placed, who.community_id);
      insert_listing(tx, placed);
      ListingRow back = find_listing(tx, placed.listing.id, false).value();
      c_->publish(tx, back, "published");
      return back;
    });
    c_->written();
    return json_response(201, listing_view(stored, Audience::editor));
  }

  Response list(const Request& r) {
    Identity who = s_.auth.require(r);
    ListQuery q = parse_list_query(r, who, c_->tree);
    // From memory when the read model holds what is asked, else one PostgreSQL query.
    auto hits = c_->index->search(q);
    if (!hits) {
      hits.emplace();
      auto rows =
          read_only(s_.db, [&](pqxx::transaction_base& tx) { return list_listings(tx, q); });
      for (auto& row : rows) {
        std::optional<double> distance = row.distance_m;
        hits->push_back(
            {std::make_shared<const ListingRow>(std::move(row)), nullptr, nullptr, distance});
      }
    }
    std::size_t shown = std::min(hits->size(), static_cast<std::size_t>(q.limit - 1));
    std::string body = "{\"items\":[";
    for (std::size_t i = 0; i < shown; ++i) {
      if (i > 0) body += ',';
      append_view(body, (*hits)[i], who);
    }
    body += "],\"next_cursor\":";
    if (hits->size() > shown) {
      const ListingRow& last = *(*hits)[shown - 1].row;
      body +=
          nlohmann::json(encode_cursor(std::to_string(last.created_at_us) + "|" + last.listing.id))
              .dump();
    } else {
      body += "null";
    }
    body += '}';
    return Response::json_text(200, body);
  }

  // A listing of a page: the view rendered when it was written, with this search's distance;
  // rendered now when the page came from PostgreSQL.
  void append_view(std::string& body, const SearchHit& hit, const Identity& who) const {
    Audience shown_to = audience(who, *hit.row);
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

  Response get_one(const Request& r) {
    Identity who = s_.auth.require(r);
    ListingRow row = read_only(
        s_.db, [&](pqxx::transaction_base& tx) { return visible(tx, who, r.param("id"), false); });
    return json_response(200, listing_view(row, audience(who, row)));
  }

  Response patch(const Request& r) {
    Identity who = s_.auth.require(r);
    refuse_suspended(who);
    ListingPatch patch = parse_patch(r.body);
    ListingRow stored = s_.db.transact([&](pqxx::work& tx) {
      ListingRow row = editable(tx, who, r.param("id"));
      int64_t now_s = c_->now_s();
      FieldErrors errors = validate_patch(row.listing, patch, c_->tree, now_s);
      if (!errors.empty()) throw invalid_input("Certains champs sont invalides.", errors);
      ListingTransitionResult status = patch_transition(row.listing, patch);
      if (status.outcome == ListingTransitionOutcome::rejected) {
        throw conflict("listing-status", "Cette annonce ne peut plus passer à ce statut (" +
                                             std::string(to_string(row.listing.status)) + ").");
      }
      ListingRow next = row;
      next.listing = apply_patch(row.listing, patch, now_s);
      next.acted_by = acted_by(who, row);
      place(tx, next, row.listing.community_id);
      ListingRow updated = update_listing(tx, next);
      c_->publish(tx, updated, "updated");
      return updated;
    });
    c_->written();
    return json_response(200, listing_view(stored, Audience::editor));
  }

  // DELETE closes: the listing stays for the history of its exchanges and the statistics.
  Response close(const Request& r) {
    Identity who = s_.auth.require(r);
    s_.db.transact([&](pqxx::work& tx) {
      ListingRow row = editable(tx, who, r.param("id"));
      bool owner = who.member_id == row.listing.member_id;
      auto result = transition(row.listing.status,
                               owner ? ListingEvent::owner_close : ListingEvent::staff_close);
      if (result.outcome == ListingTransitionOutcome::rejected) {
        throw conflict("listing-reserved",
                       "Annonce réservée par un échange en cours : annulez d'abord l'échange.");
      }
      if (result.outcome == ListingTransitionOutcome::unchanged) return;
      ListingRow next = row;
      next.listing.status = result.status;
      next.acted_by = acted_by(who, row);
      c_->publish_closed(tx, update_listing(tx, next), "closed");
    });
    c_->written();
    return Response::no_content();
  }
};

}  // namespace

void register_routes(const std::shared_ptr<const ListingContext>& context) {
  auto api = std::make_shared<ListingApi>(context);
  api->routes(api);
}

}  // namespace maillon::listings
