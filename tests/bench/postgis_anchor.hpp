// The PostGIS anchor of the matching benchmark: the same points in a table indexed as well as
// PostGIS allows (GiST on side, category and geography through btree_gist), queried with a
// prepared ST_DWithin + <-> ordering, LIMIT 20. Lives in its own throwaway schema.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "matching/category_tree.hpp"
#include "matching/engine.hpp"

namespace maillon::bench {

class PostgisAnchor {
 public:
  static constexpr std::size_t kBatch = 50'000;  // rows per INSERT ... unnest

  PostgisAnchor(const std::string& url, std::vector<matching::CategoryId> parents)
      : conn_(url),
        tree_(std::move(parents)),
        schema_("bench_matching_" + std::to_string(getpid())) {
    pqxx::work tx(conn_);
    tx.exec("CREATE EXTENSION IF NOT EXISTS postgis");
    tx.exec("CREATE EXTENSION IF NOT EXISTS btree_gist");
    tx.exec("CREATE SCHEMA " + schema_);
    tx.exec("CREATE UNLOGGED TABLE " + schema_ +
            ".raw (id integer, side smallint, category smallint, "
            "lat double precision, lon double precision)");
    tx.commit();
  }
  ~PostgisAnchor() {
    try {
      pqxx::work tx(conn_);
      tx.exec("DROP SCHEMA " + schema_ + " CASCADE");
      tx.commit();
    } catch (const std::exception&) {  // a benchmark's clean-up failing is not worth a crash
    }
  }

  // Loads the listings' handover points; returns the seconds spent (load + index).
  double load(const std::vector<matching::Listing>& listings) {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t from = 0; from < listings.size(); from += kBatch) insert_batch(listings, from);
    pqxx::work tx(conn_);
    tx.exec("CREATE TABLE " + schema_ +
            ".points AS SELECT id, side, category, "
            "ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography AS geog FROM " +
            schema_ + ".raw");
    tx.exec("CREATE INDEX ON " + schema_ + ".points USING gist (side, category, geog)");
    tx.exec("ANALYZE " + schema_ + ".points");
    tx.commit();
    conn_.prepare(
        "nearby",
        "SELECT id FROM " + schema_ +
            ".points WHERE side = 0 AND category = ANY($1::smallint[]) "
            "AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4) "
            "ORDER BY geog <-> ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography LIMIT 20");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // The same question as Engine::nearby with a category and side offer: ids of the 20 nearest.
  std::vector<int> nearby(const matching::NearbyQuery& q) {
    std::string related = "{";
    for (matching::CategoryId c : tree_.related(*q.category)) related += std::to_string(c) + ",";
    related.back() = '}';
    pqxx::work tx(conn_);
    std::vector<int> ids;
    for (const auto& row :
         tx.exec_prepared("nearby", related, q.at.lon, q.at.lat, double(q.radius_m))) {
      ids.push_back(row[0].as<int>());
    }
    tx.commit();
    return ids;
  }

 private:
  void insert_batch(const std::vector<matching::Listing>& listings, std::size_t from) {
    std::ostringstream ids, sides, categories, lats, lons;
    for (auto* s : {&ids, &sides, &categories, &lats, &lons}) {
      s->precision(10);
      *s << '{';
    }
    const std::size_t to = std::min(listings.size(), from + kBatch);
    for (std::size_t i = from; i < to; ++i) {
      const char* sep = i + 1 < to ? "," : "}";
      const matching::GeoPoint p = matching::handover_point(listings[i]);
      ids << i << sep;
      sides << int(listings[i].side) << sep;
      categories << listings[i].category << sep;
      lats << p.lat << sep;
      lons << p.lon << sep;
    }
    pqxx::work tx(conn_);
    tx.exec_params("INSERT INTO " + schema_ +
                       ".raw SELECT * FROM unnest($1::integer[], $2::smallint[], "
                       "$3::smallint[], $4::float8[], $5::float8[])",
                   ids.str(), sides.str(), categories.str(), lats.str(), lons.str());
    tx.commit();
  }

  pqxx::connection conn_;
  matching::CategoryTree tree_;
  std::string schema_;
};

}  // namespace maillon::bench
