// The labels' statements (see labels_repository.hpp).
#include "services/depot/labels_repository.hpp"

#include "services/common/db.hpp"
#include "services/depot/labels_repository_sql.hpp"

namespace maillon::depot {
namespace {

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
  return rows_of(exec_cached(tx, kSiteItemLabels, site_id, ids_literal(ids), limit));
}

std::vector<LabelRow> site_lend_labels(pqxx::work& tx, const std::string& site_id,
                                       const std::optional<std::vector<std::string>>& ids,
                                       int limit) {
  // The offers service may not run against this database (a depot alone in a test).
  if (!tx.exec(kLendLabelsPublished)[0][0].as<bool>()) return {};
  return rows_of(exec_cached(tx, kSiteLendLabels, site_id, ids_literal(ids), limit));
}

std::vector<std::string> items_by_code(pqxx::work& tx, const std::string& site_id,
                                       const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& row : exec_cached(tx, kItemsByCode, site_id, prefix))
    out.emplace_back(row[0].c_str());
  return out;
}

}  // namespace maillon::depot
