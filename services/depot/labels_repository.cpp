// The labels' statements (see labels_repository.hpp).
#include "services/depot/labels_repository.hpp"

#include "services/common/db.hpp"

namespace maillon::depot {
namespace {

constexpr const char* kSiteItemLabels =
    "SELECT id::text, title FROM items WHERE site_id = $1::uuid "
    "AND ($2::uuid[] IS NULL AND status IN ('available', 'reserved', 'on_loan') "
    "OR id = ANY ($2::uuid[])) ORDER BY id LIMIT $3";
constexpr const char* kLendLabelsPublished =
    "SELECT to_regprocedure('offers.site_lend_labels(uuid,uuid[],integer)') IS NOT NULL";
constexpr const char* kSiteLendLabels =
    "SELECT id::text, title FROM offers.site_lend_labels($1::uuid, $2::uuid[], $3)";
// Between the smallest and the largest UUID with that prefix: the primary key's index answers.
constexpr const char* kItemsByCode =
    "SELECT id::text FROM items WHERE site_id = $1::uuid "
    "AND id BETWEEN ($2 || '-0000-0000-0000-000000000000')::uuid "
    "AND ($2 || '-ffff-ffff-ffff-ffffffffffff')::uuid ORDER BY id LIMIT 2";

std::optional<std::string> ids_literal(const std::optional<std::vector<std::string>>& ids) {
  if (!ids) return std::nullopt;
  return array_literal(*ids);
}

std::vector<LabelRow> rows_of(const pqxx::result& r) {
  std::vector<LabelRow> out;
  for (const auto& row : r) out.push_back({row[0].c_str(), row[1].c_str()});
  return out;
}

}  // namespace

std::vector<LabelRow> site_item_labels(pqxx::work& tx, const std::string& site_id,
                                       const std::optional<std::vector<std::string>>& ids,
                                       int limit) {
  return rows_of(tx.exec_params(kSiteItemLabels, site_id, ids_literal(ids), limit));
}

std::vector<LabelRow> site_lend_labels(pqxx::work& tx, const std::string& site_id,
                                       const std::optional<std::vector<std::string>>& ids,
                                       int limit) {
  // The offers service may not run against this database (a depot alone in a test).
  if (!tx.exec(kLendLabelsPublished)[0][0].as<bool>()) return {};
  return rows_of(tx.exec_params(kSiteLendLabels, site_id, ids_literal(ids), limit));
}

std::vector<std::string> items_by_code(pqxx::work& tx, const std::string& site_id,
                                       const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& row : tx.exec_params(kItemsByCode, site_id, prefix))
    out.emplace_back(row[0].c_str());
  return out;
}

}  // namespace maillon::depot
