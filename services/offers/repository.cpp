// SQL of the listing services. Unqualified names: the connection's search_path is the schema of
// the service running it (offers or requests). Arrays travel as JSON text, times as Unix seconds.
#include "services/offers/repository.hpp"

#include <nlohmann/json.hpp>

#include "services/common/change_feed.hpp"
#include "services/common/db.hpp"
#include "services/common/directory.hpp"

namespace maillon::listings {
namespace {

constexpr const char* kColumns =
    "id, member_id, community_id, COALESCE(home_site_id::text, ''), site_id, kind, mode, "
    "category, title, description, array_to_json(tags)::text, lat, lon, position_lat, "
    "position_lon, grid_lat, grid_lon, reach_km, price_minutes, duration_minutes, "
    "floor(extract(epoch FROM available_from))::bigint, "
    "floor(extract(epoch FROM available_until))::bigint, array_to_json(photos)::text, status, "
    "exchange_id, acted_by, floor(extract(epoch FROM created_at))::bigint, "
    "floor(extract(epoch FROM updated_at))::bigint, "
    "(extract(epoch FROM created_at) * 1000000)::bigint, current_schema(), hidden_suspended, "
    "hidden_moderated, deposit_minutes, capacity, revision, visibility";

constexpr const char* kInsertListing =
    "INSERT INTO listings (id, member_id, community_id, home_site_id, site_id, kind, mode, "
    "category, title, description, tags, lat, lon, position_lat, position_lon, grid_lat, "
    "grid_lon, reach_km, price_minutes, duration_minutes, available_from, available_until, "
    "photos, status, acted_by, deposit_minutes, capacity, visibility) VALUES ($1, $2, $3, "
    "$4::uuid, $5::uuid, $6, $7, $8, $9, $10, "
    "ARRAY(SELECT jsonb_array_elements_text($11::jsonb)), $12, $13, $14, $15, $16, $17, $18, "
    "$19, $20, to_timestamp($21::bigint), to_timestamp($22::bigint), "
    "ARRAY(SELECT jsonb_array_elements_text($23::jsonb)), $24, $25::uuid, $26, $27, $28)";

// New listings of a batch (services/offers/create_batch.cpp) in one statement, from a JSON array
// of rows (listing_record's fields), each written only when its owner may post: the standing is
// read by this statement, after the caller's lock_members. RETURNING: the ids written and the
// time they were written at (created_at and updated_at default to now(), the transaction's).
constexpr const char* kInsertNewListings =
    "INSERT INTO listings (id, member_id, community_id, home_site_id, site_id, kind, mode, "
    "category, title, description, tags, lat, lon, position_lat, position_lon, grid_lat, "
    "grid_lon, reach_km, price_minutes, duration_minutes, available_from, available_until, "
    "photos, status, acted_by, deposit_minutes, capacity, visibility) "
    "SELECT r.id, r.member_id, r.community_id, r.home_site_id, r.site_id, r.kind, r.mode, "
    "r.category, r.title, r.description, ARRAY(SELECT jsonb_array_elements_text(r.tags)), r.lat, "
    "r.lon, r.position_lat, r.position_lon, r.grid_lat, r.grid_lon, r.reach_km, r.price_minutes, "
    "r.duration_minutes, to_timestamp(r.available_from), to_timestamp(r.available_until), "
    "ARRAY(SELECT jsonb_array_elements_text(r.photos)), r.status, r.acted_by, r.deposit_minutes, "
    "r.capacity, r.visibility "
    "FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, member_id uuid, community_id uuid, "
    "home_site_id uuid, site_id uuid, kind text, mode text, category text, title text, "
    "description text, tags jsonb, lat float8, lon float8, position_lat float8, "
    "position_lon float8, grid_lat float8, grid_lon float8, reach_km float8, "
    "price_minutes bigint, duration_minutes bigint, available_from bigint, "
    "available_until bigint, photos jsonb, status text, acted_by uuid, deposit_minutes bigint, "
    "capacity integer, visibility text) "
    "WHERE NOT EXISTS (SELECT 1 FROM member_standing s WHERE s.member_id = r.member_id "
    "AND s.state <> 'active') "
    "RETURNING id::text, floor(extract(epoch FROM created_at))::bigint, "
    "(extract(epoch FROM created_at) * 1000000)::bigint";

constexpr const char* kUpdateListingHead =
    "UPDATE listings SET site_id = $2::uuid, kind = $3, mode = $4, category = $5, title = $6, "
    "description = $7, tags = ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), lat = $9, "
    "lon = $10, position_lat = $11, position_lon = $12, grid_lat = $13, grid_lon = $14, "
    "reach_km = $15, price_minutes = $16, duration_minutes = $17, "
    "available_from = to_timestamp($18::bigint), available_until = to_timestamp($19::bigint), "
    "photos = ARRAY(SELECT jsonb_array_elements_text($20::jsonb)), status = $21, "
    "exchange_id = $22::uuid, acted_by = $23::uuid, deposit_minutes = $24, capacity = $25, "
    "visibility = $26, updated_at = now() WHERE id = $1 RETURNING ";

constexpr const char* kFindListing = " FROM listings WHERE id = $1";

// One statement for every filter combination: an absent filter is a NULL parameter, folded
// away by the planner (parameters are bound per execution, so each gets its own plan).
// The distance is computed between snapped points: nothing finer than the grid leaks.
// A linked community's listing ($18: the reader's active partners) comes only when it crosses
// (exchange/listing.hpp: visible_to_community): federation or public, active, near the point
// given, within the radius and within its own reach.
constexpr const char* kListTail =
    ", d.distance_m FROM listings CROSS JOIN LATERAL (SELECT CASE WHEN $10::float8 IS NULL "
    "THEN NULL ELSE 2 * 6371008.8 * asin(least(1, sqrt(power(sin(radians(grid_lat - $10) / 2), "
    "2) + cos(radians($10)) * cos(radians(grid_lat)) * power(sin(radians(grid_lon - $11) / 2), "
    "2)))) END AS distance_m) d "
    "WHERE (community_id = $1 OR (community_id = ANY($18::uuid[]) AND visibility <> 'community' "
    "AND status = 'active' AND $10::float8 IS NOT NULL AND d.distance_m <= reach_km * 1000)) "
    "AND status = $2 "
    "AND ($3::text IS NULL OR search @@ websearch_to_tsquery('public.french_unaccent', $3)) "
    "AND ($4::text[] IS NULL OR category = ANY($4::text[])) "
    "AND ($5::text IS NULL OR kind = $5) AND ($6::text IS NULL OR mode = $6) "
    "AND ($7::uuid IS NULL OR site_id = $7::uuid) AND ($8::uuid IS NULL OR member_id = $8::uuid) "
    "AND ($10::float8 IS NULL OR (grid_lat BETWEEN $10 - $13 AND $10 + $13 "
    "AND grid_lon BETWEEN $11 - $14 AND $11 + $14 AND d.distance_m <= $12)) "
    "AND ($15::bigint IS NULL OR (created_at, id) < "
    "('epoch'::timestamptz + $15::bigint * interval '1 microsecond', $16::uuid)) "
    "AND (NOT (hidden_suspended OR hidden_moderated) OR member_id = $17::uuid) "
    "ORDER BY created_at DESC, id DESC LIMIT $9";

constexpr const char* kExpiringTail =
    " FROM listings WHERE status IN ('active', 'paused') AND available_until <= to_timestamp($1) "
    "ORDER BY available_until LIMIT $2 FOR UPDATE SKIP LOCKED";

constexpr const char* kPrintedQuery =
    "SELECT websearch_to_tsquery('public.french_unaccent', $1)::text";

// Standing changes: hiding and showing never touch the status (see 004_member_lifecycle.sql);
// updated_at moves so that consumers ordering by it (matching) take the new event.
constexpr const char* kLockMember =
    "SELECT pg_advisory_xact_lock(hashtext('listing-member:' || $1::text))";
// The same lock for every member of a batch, in the order of the keys: two batches never wait
// for each other in a cycle.
constexpr const char* kLockMembers =
    "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext('listing-member:' || m) AS k "
    "FROM unnest($1::text[]) AS m ORDER BY k) AS keys";
constexpr const char* kOwnerStanding = "SELECT state FROM member_standing WHERE member_id = $1";
constexpr const char* kRecordStanding =
    "INSERT INTO member_standing AS s (member_id, community_id, state, event_at) "
    "VALUES ($1, $2, $3, $4::timestamptz) ON CONFLICT (member_id) DO UPDATE SET "
    "state = EXCLUDED.state, event_at = EXCLUDED.event_at "
    "WHERE s.state <> 'erased' AND (EXCLUDED.state = 'erased' OR s.event_at < EXCLUDED.event_at) "
    "RETURNING state";
constexpr const char* kHideOfMemberHead =
    "UPDATE listings SET hidden_suspended = true, updated_at = now() WHERE member_id = $1 "
    "AND status IN ('active', 'paused', 'reserved') AND NOT hidden_suspended RETURNING ";
constexpr const char* kShowOfMemberHead =
    "UPDATE listings SET hidden_suspended = false, updated_at = now() WHERE member_id = $1 "
    "AND hidden_suspended RETURNING ";
constexpr const char* kCloseOfMemberHead =
    "UPDATE listings SET status = 'closed', acted_by = NULL, updated_at = now() "
    "WHERE member_id = $1 AND status <> 'closed' RETURNING ";
constexpr const char* kHideListingHead =
    "UPDATE listings SET hidden_moderated = true, hidden_report_id = $3::uuid, updated_at = now() "
    "WHERE id = $1 AND community_id = $2 AND NOT hidden_moderated RETURNING ";

constexpr int kColumnCount = 36;  // of kColumns: what a query adds comes after them

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
  std::string kind;
  std::string mode;
  std::string status;
  std::string schema;
  std::string visibility;
  std::optional<double> lat;
  std::optional<double> lon;
  read_columns(r, l.id, l.member_id, l.community_id, row.home_site_id, l.site_id, kind, mode,
               l.category, l.title, l.description);
  l.tags = json_texts(r[10]);
  read_columns_from(r, 11, lat, lon, row.position.lat, row.position.lon, row.grid.lat, row.grid.lon,
                    l.reach_km, l.price_minutes, l.duration_minutes, l.available_from_s,
                    l.available_until_s);
  l.photos = json_texts(r[22]);
  read_columns_from(r, 23, status, row.exchange_id, row.acted_by, l.created_at_s, l.updated_at_s,
                    row.created_at_us, schema, row.hidden_suspended, row.hidden_moderated,
                    l.deposit_minutes, l.capacity, row.revision, visibility);
  l.kind = parse_listing_kind(kind).value();
  l.mode = parse_listing_mode(mode).value();
  if (lat) l.location = ListingLocation{*lat, lon.value()};
  l.status = parse_listing_status(status).value();
  // The table has no side column: the schema is the side (requests → request, else offer).
  l.side = schema == "requests" ? ListingSide::request : ListingSide::offer;
  l.visibility = parse_listing_visibility(visibility).value();
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
  tx.exec_params(kInsertListing, l.id, l.member_id, l.community_id, home, l.site_id,
                 std::string(to_string(l.kind)), std::string(to_string(l.mode)), l.category,
                 l.title, l.description, json_array(l.tags), location_part(l.location, true),
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
  for (const auto& r : tx.exec_params(kInsertNewListings, records.dump())) {
    out.ids.insert(r[0].c_str());
    out.created_at_s = r[1].as<int64_t>();
    out.created_at_us = r[2].as<int64_t>();
  }
  return out;
}

std::optional<ListingRow> find_listing(pqxx::transaction_base& tx, const std::string& id,
                                       bool for_update) {
  static const std::string kPlain = select(kFindListing);
  static const std::string kLocked = kPlain + " FOR UPDATE";
  auto r = tx.exec_params(for_update ? kLocked : kPlain, id);
  if (r.empty()) return std::nullopt;
  return read_row(r[0]);
}

ListingRow update_listing(pqxx::work& tx, const ListingRow& row) {
  static const std::string kUpdate = std::string(kUpdateListingHead) + kColumns;
  const Listing& l = row.listing;
  auto r = tx.exec_params(
      kUpdate, l.id, l.site_id, std::string(to_string(l.kind)), std::string(to_string(l.mode)),
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
  auto r = tx.exec_params(kList, q.community_id, q.status, q.text, category_array(q.categories),
                          q.kind, q.mode, q.site_id, q.member_id, q.limit, lat, lon, q.radius_m,
                          dlat, dlon, after_us, after_id, hidden_shown_to(q),
                          array_literal(q.partner_community_ids));
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
  auto r = tx.exec_params(kExpiring, now_s, limit);
  std::vector<ListingRow> rows;
  for (const auto& row : r) rows.push_back(read_row(row));
  return rows;
}

ListingFeed read_listing_feed(pqxx::transaction_base& tx, const std::string& since_xact) {
  static const std::string kFeed = select((std::string(", search::text AS search_text, ") +
                                           change_feed::kNextPosition + change_feed::kListingsSince)
                                              .c_str());
  auto r = tx.exec_params(kFeed, since_xact);
  ListingFeed feed;
  feed.next_xact = r.at(0)["next_xact"].c_str();
  for (const auto& row : r) {
    if (row[0].is_null()) continue;  // the row of NULLs: nothing changed
    feed.rows.emplace_back(read_row(row), row["search_text"].c_str());
  }
  return feed;
}

std::string printed_search_query(pqxx::transaction_base& tx, const std::string& text) {
  return tx.exec_params(kPrintedQuery, text).at(0)[0].c_str();
}

void lock_member(pqxx::work& tx, const std::string& member_id) {
  tx.exec_params(kLockMember, member_id);
}

void lock_members(pqxx::work& tx, const std::vector<std::string>& member_ids) {
  tx.exec_params(kLockMembers, array_literal(member_ids));
}

OwnerStanding owner_standing(pqxx::transaction_base& tx, const std::string& member_id) {
  auto r = tx.exec_params(kOwnerStanding, member_id);
  if (r.empty()) return OwnerStanding::active;
  std::string_view state = r[0][0].c_str();
  if (state == "suspended") return OwnerStanding::suspended;
  return state == "erased" ? OwnerStanding::erased : OwnerStanding::active;
}

bool record_standing(pqxx::work& tx, const std::string& member_id, const std::string& community_id,
                     OwnerStanding standing, const std::string& event_at) {
  std::string state = kStandingNames[static_cast<int>(standing)];
  return !tx.exec_params(kRecordStanding, member_id, community_id, state, event_at).empty();
}

std::vector<ListingRow> hide_listings_of_member(pqxx::work& tx, const std::string& member_id) {
  static const std::string kHide = std::string(kHideOfMemberHead) + kColumns;
  return read_rows(tx.exec_params(kHide, member_id));
}

std::vector<ListingRow> show_listings_of_member(pqxx::work& tx, const std::string& member_id) {
  static const std::string kShow = std::string(kShowOfMemberHead) + kColumns;
  return read_rows(tx.exec_params(kShow, member_id));
}

std::vector<ListingRow> close_listings_of_member(pqxx::work& tx, const std::string& member_id) {
  static const std::string kClose = std::string(kCloseOfMemberHead) + kColumns;
  return read_rows(tx.exec_params(kClose, member_id));
}

std::optional<ListingRow> hide_listing(pqxx::work& tx, const std::string& id,
                                       const std::string& community_id,
                                       const std::optional<std::string>& report_id) {
  static const std::string kHide = std::string(kHideListingHead) + kColumns;
  auto r = tx.exec_params(kHide, id, community_id, report_id);
  if (r.empty()) return std::nullopt;
  return read_row(r[0]);
}

std::optional<SiteRow> find_site(pqxx::transaction_base& tx, const std::string& id) {
  auto site = directory::site(tx, id);
  if (!site || !site->location) return std::nullopt;
  return SiteRow{site->id, site->community_id, {site->location->lat, site->location->lon}};
}

namespace {

// schemas/offers/060_listing_exchange_ends.sql: a redelivered end is the same end.
constexpr const char* kRecordExchangeEnd =
    "INSERT INTO listing_exchange_ends (listing_id, exchange_id) VALUES ($1::uuid, $2::uuid) "
    "ON CONFLICT DO NOTHING";
constexpr const char* kExchangeEnded =
    "SELECT 1 FROM listing_exchange_ends WHERE listing_id = $1::uuid AND exchange_id = $2::uuid";

}  // namespace

void record_exchange_end(pqxx::work& tx, const std::string& listing_id,
                         const std::string& exchange_id) {
  tx.exec_params(kRecordExchangeEnd, listing_id, exchange_id);
}

bool exchange_ended(pqxx::work& tx, const std::string& listing_id, const std::string& exchange_id) {
  return !tx.exec_params(kExchangeEnded, listing_id, exchange_id).empty();
}

}  // namespace maillon::listings
