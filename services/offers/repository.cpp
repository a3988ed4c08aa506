// SQL of the listing services. Unqualified names: the connection's search_path is the schema of
// the service running it (offers or requests). Arrays travel as JSON text, times as Unix seconds.
#include "services/offers/repository.hpp"

#include <nlohmann/json.hpp>

#include "services/common/change_feed.hpp"
#include "services/common/db.hpp"
#include "services/common/directory.hpp"
#include "services/offers/repository_sql.hpp"

namespace maillon::listings {
namespace {

constexpr int kColumnCount = 37;  // of kColumns: what a query adds comes after them

constexpr double kMetresPerDegree = 6371008.8 * 3.14159265358979323846 / 180.0;

std::string select(const char* tail) {
  return std::string("SELECT ") + kColumns + tail;
}

std::vector<std::string> json_texts(const pqxx::field& f) {
  if (f.is_null()) return {};
  return nlohmann::json::parse(f.c_str()).get<std::vector<std::string>>();
}

std::string json_array(const std::vector<std::string>& texts) {
  return nlohmann::json(texts).dump();
}

template <class T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

ListingRow read_row(const pqxx::row& r) {
  ListingRow row;
  Listing& l = row.listing;
  std::optional<double> lat;
  std::optional<double> lon;
  std::string schema;
  read_columns(r, l.id, l.member_id, l.community_id, row.home_site_id, l.site_id,
               parsed(l.kind, parse_listing_kind), parsed(l.mode, parse_listing_mode), l.category,
               l.title, l.description);
  l.tags = json_texts(r[10]);
  read_columns_from(r, 11, lat, lon, row.position.lat, row.position.lon, row.grid.lat, row.grid.lon,
                    l.reach_km, l.price_minutes, l.duration_minutes, l.available_from_s,
                    l.available_until_s);
  l.photos = json_texts(r[22]);
  read_columns_from(r, 23, parsed(l.status, parse_listing_status), row.exchange_id, row.acted_by,
                    l.created_at_s, l.updated_at_s, row.created_at_us, schema, row.hidden_suspended,
                    row.hidden_moderated, l.deposit_minutes, l.capacity, row.revision,
                    parsed(l.visibility, parse_listing_visibility), row.partner_url);
  if (lat) l.location = ListingLocation{*lat, lon.value()};
  // The table has no side column: the schema is the side (requests → request, else offer).
  l.side = schema == "requests" ? ListingSide::request : ListingSide::offer;
  return row;
}

std::optional<double> location_part(const std::optional<ListingLocation>& l, bool lat) {
  if (!l) return std::nullopt;
  return lat ? l->lat : l->lon;
}

std::optional<std::string> hidden_shown_to(const ListQuery& q) {
  if (q.hidden_shown_to.empty()) return std::nullopt;
  return q.hidden_shown_to;
}

std::vector<ListingRow> read_rows(const pqxx::result& result) {
  std::vector<ListingRow> rows;
  rows.reserve(result.size());
  for (const auto& row : result) rows.push_back(read_row(row));
  return rows;
}

constexpr const char* kStandingNames[] = {"active", "suspended", "erased"};

std::optional<std::string> category_array(const std::optional<std::vector<std::string>>& slugs) {
  if (!slugs) return std::nullopt;
  return array_literal(*slugs);
}

}  // namespace

void insert_listing(pqxx::work& tx, const ListingRow& row) {
  const Listing& l = row.listing;
  std::optional<std::string> home =
      row.home_site_id.empty() ? std::nullopt : std::optional(row.home_site_id);
  exec_cached(tx, kInsertListing, l.id, l.member_id, l.community_id, home, l.site_id,
              std::string(to_string(l.kind)), std::string(to_string(l.mode)), l.category, l.title,
              l.description, json_array(l.tags), location_part(l.location, true),
              location_part(l.location, false), row.position.lat, row.position.lon, row.grid.lat,
              row.grid.lon, l.reach_km, l.price_minutes, l.duration_minutes, l.available_from_s,
              l.available_until_s, json_array(l.photos), std::string(to_string(l.status)),
              row.acted_by, l.deposit_minutes, l.capacity, std::string(to_string(l.visibility)));
}

nlohmann::json listing_fields(const Listing& l) {
  auto optional = [](const auto& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  return {{"id", l.id},
          {"member_id", l.member_id},
          {"community_id", l.community_id},
          {"kind", to_string(l.kind)},
          {"mode", to_string(l.mode)},
          {"category", l.category},
          {"title", l.title},
          {"description", l.description},
          {"tags", l.tags},
          {"site_id", optional(l.site_id)},
          {"reach_km", l.reach_km},
          {"price_minutes", l.price_minutes},
          {"duration_minutes", optional(l.duration_minutes)},
          {"photos", l.photos},
          {"deposit_minutes", optional(l.deposit_minutes)},
          {"capacity", optional(l.capacity)},
          {"visibility", to_string(l.visibility)},
          {"status", to_string(l.status)}};
}

namespace {

// One row of kInsertNewListings' JSON array.
nlohmann::json listing_record(const ListingRow& row) {
  const Listing& l = row.listing;
  auto optional = [](const auto& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  nlohmann::json record = listing_fields(l);
  record["home_site_id"] =
      row.home_site_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.home_site_id);
  record["lat"] = optional(location_part(l.location, true));
  record["lon"] = optional(location_part(l.location, false));
  record["position_lat"] = row.position.lat;
  record["position_lon"] = row.position.lon;
  record["grid_lat"] = row.grid.lat;
  record["grid_lon"] = row.grid.lon;
  record["available_from"] = optional(l.available_from_s);
  record["available_until"] = optional(l.available_until_s);
  record["acted_by"] = optional(row.acted_by);
  return record;
}

}  // namespace

NewListings insert_new_listings(pqxx::work& tx, const std::vector<const ListingRow*>& rows) {
  nlohmann::json records = nlohmann::json::array();
  for (const ListingRow* row : rows) records.push_back(listing_record(*row));
  NewListings out;
  for (const auto& r : exec_cached(tx, kInsertNewListings, records.dump())) {
    out.ids.insert(r[0].c_str());
    out.created_at_s = r[1].as<int64_t>();
    out.created_at_us = r[2].as<int64_t>();
  }
  return out;
}

bool upsert_partner_listing(pqxx::work& tx, const PartnerListing& copy, bool active) {
  const auto j = nlohmann::json::parse(copy.listing);
  auto nullable = [&](const char* name) -> std::optional<std::string> {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  const auto& grid = j.at("grid");
  return !exec_cached(tx, kUpsertPartnerListing, j.at("id").get<std::string>(),
                      j.at("member_id").get<std::string>(), copy.community_id,
                      j.at("kind").get<std::string>(), j.at("mode").get<std::string>(),
                      j.at("category").get<std::string>(), j.at("title").get<std::string>(),
                      j.at("description").get<std::string>(), j.at("tags").dump(),
                      grid.at("lat").get<double>(), grid.at("lon").get<double>(),
                      j.at("reach_km").get<double>(), j.at("price_minutes").get<int64_t>(),
                      nullable("duration_minutes"), nullable("available_from"),
                      nullable("available_until"), nullable("deposit_minutes"),
                      nullable("capacity"), j.at("visibility").get<std::string>(), copy.partner_url,
                      copy.revision, j.at("created_at").get<std::string>(),
                      std::string(active ? "active" : "closed"))
              .empty();
}

void withdraw_partner_listing(pqxx::work& tx, const std::string& id, const PartnerListing& copy) {
  exec_cached(tx, kWithdrawPartnerListing, id, copy.community_id, copy.partner_url, copy.revision);
}

int64_t partner_listings_open(pqxx::work& tx, const std::string& community_id) {
  return exec_cached(tx, kPartnerListingsOpen, community_id).at(0)[0].as<int64_t>();
}

std::optional<ListingRow> find_listing(pqxx::transaction_base& tx, const std::string& id,
                                       bool for_update) {
  static const std::string kPlain = select(kFindListing);
  static const std::string kLocked = kPlain + " FOR UPDATE";
  auto r = exec_cached(tx, for_update ? kLocked : kPlain, id);
  if (r.empty()) return std::nullopt;
  return read_row(r[0]);
}

ListingRow update_listing(pqxx::work& tx, const ListingRow& row) {
  static const std::string kUpdate = std::string(kUpdateListingHead) + kColumns;
  const Listing& l = row.listing;
  auto r = exec_cached(
      tx, kUpdate, l.id, l.site_id, std::string(to_string(l.kind)), std::string(to_string(l.mode)),
      l.category, l.title, l.description, json_array(l.tags), location_part(l.location, true),
      location_part(l.location, false), row.position.lat, row.position.lon, row.grid.lat,
      row.grid.lon, l.reach_km, l.price_minutes, l.duration_minutes, l.available_from_s,
      l.available_until_s, json_array(l.photos), std::string(to_string(l.status)), row.exchange_id,
      row.acted_by, l.deposit_minutes, l.capacity, std::string(to_string(l.visibility)));
  return read_row(r.at(0));
}

std::vector<ListingRow> list_listings(pqxx::transaction_base& tx, const ListQuery& q) {
  // Not prepared on purpose: a generic plan keeps every optional filter and evaluates the
  // text query per row (measured 10x slower); bound per execution, each gets its own plan.
  static const std::string kList = select(kListTail);
  std::optional<double> lat, lon, dlat, dlon;
  if (q.near) {
    lat = q.near->lat;
    lon = q.near->lon;
    dlat = q.radius_m / kMetresPerDegree;
    // The box widens towards the poles; 89° keeps the cosine away from zero.
    double widest = std::min(std::abs(*lat) + *dlat, 89.0);
    dlon = q.radius_m / (kMetresPerDegree * std::cos(widest * 3.14159265358979323846 / 180.0));
  }
  std::optional<int64_t> after_us;
  std::optional<std::string> after_id;
  if (q.after) {
    after_us = q.after->first;
    after_id = q.after->second;
  }
  auto r =
      exec_cached(tx, kList, q.community_id, q.status, q.text, category_array(q.categories), q.kind,
                  q.mode, q.site_id, q.member_id, q.limit, lat, lon, q.radius_m, dlat, dlon,
                  after_us, after_id, hidden_shown_to(q), array_literal(q.partner_community_ids));
  std::vector<ListingRow> rows;
  rows.reserve(r.size());
  for (const auto& row : r) {
    rows.push_back(read_row(row));
    rows.back().distance_m = opt<double>(row[kColumnCount]);
  }
  return rows;
}

std::vector<ListingRow> expiring_listings(pqxx::work& tx, int64_t now_s, int limit) {
  static const std::string kExpiring = select(kExpiringTail);
  auto r = exec_cached(tx, kExpiring, now_s, limit);
  std::vector<ListingRow> rows;
  for (const auto& row : r) rows.push_back(read_row(row));
  return rows;
}

ListingFeed read_listing_feed(pqxx::transaction_base& tx, const std::string& since_xact) {
  static const std::string kFeed = select((std::string(", search::text AS search_text, ") +
                                           change_feed::kNextPosition + change_feed::kListingsSince)
                                              .c_str());
  auto r = exec_cached(tx, kFeed, since_xact);
  ListingFeed feed;
  feed.next_xact = r.at(0)["next_xact"].c_str();
  for (const auto& row : r) {
    if (row[0].is_null()) continue;  // the row of NULLs: nothing changed
    feed.rows.emplace_back(read_row(row), row["search_text"].c_str());
  }
  return feed;
}

std::string printed_search_query(pqxx::transaction_base& tx, const std::string& text) {
  return exec_cached(tx, kPrintedQuery, text).at(0)[0].c_str();
}

void lock_member(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kLockMember, member_id);
}

void lock_members(pqxx::work& tx, const std::vector<std::string>& member_ids) {
  exec_cached(tx, kLockMembers, array_literal(member_ids));
}

OwnerStanding owner_standing(pqxx::transaction_base& tx, const std::string& member_id) {
  auto r = exec_cached(tx, kOwnerStanding, member_id);
  if (r.empty()) return OwnerStanding::active;
  std::string_view state = r[0][0].c_str();
  if (state == "suspended") return OwnerStanding::suspended;
  return state == "erased" ? OwnerStanding::erased : OwnerStanding::active;
}

bool record_standing(pqxx::work& tx, const std::string& member_id, const std::string& community_id,
                     OwnerStanding standing, const std::string& event_at) {
  std::string state = kStandingNames[static_cast<int>(standing)];
  return !exec_cached(tx, kRecordStanding, member_id, community_id, state, event_at).empty();
}

std::vector<ListingRow> hide_listings_of_member(pqxx::work& tx, const std::string& member_id) {
  static const std::string kHide = std::string(kHideOfMemberHead) + kColumns;
  return read_rows(exec_cached(tx, kHide, member_id));
}

std::vector<ListingRow> show_listings_of_member(pqxx::work& tx, const std::string& member_id) {
  static const std::string kShow = std::string(kShowOfMemberHead) + kColumns;
  return read_rows(exec_cached(tx, kShow, member_id));
}

std::vector<ListingRow> close_listings_of_member(pqxx::work& tx, const std::string& member_id) {
  static const std::string kClose = std::string(kCloseOfMemberHead) + kColumns;
  return read_rows(exec_cached(tx, kClose, member_id));
}

std::optional<ListingRow> hide_listing(pqxx::work& tx, const std::string& id,
                                       const std::string& community_id,
                                       const std::optional<std::string>& report_id) {
  static const std::string kHide = std::string(kHideListingHead) + kColumns;
  auto r = exec_cached(tx, kHide, id, community_id, report_id);
  if (r.empty()) return std::nullopt;
  return read_row(r[0]);
}

std::optional<SiteRow> find_site(pqxx::transaction_base& tx, const std::string& id) {
  auto site = directory::site(tx, id);
  if (!site || !site->location) return std::nullopt;
  return SiteRow{site->id, site->community_id, {site->location->lat, site->location->lon}};
}

void record_exchange_end(pqxx::work& tx, const std::string& listing_id,
                         const std::string& exchange_id) {
  exec_cached(tx, kRecordExchangeEnd, listing_id, exchange_id);
}

bool exchange_ended(pqxx::work& tx, const std::string& listing_id, const std::string& exchange_id) {
  return !exec_cached(tx, kExchangeEnded, listing_id, exchange_id).empty();
}

}  // namespace maillon::listings
