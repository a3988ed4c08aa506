// The label sheet's and the kiosk scan's SQL (one named constant per statement, in
// labels_repository.cpp): the depot's items of a site, and the lendable offers the offers
// service publishes (offers.site_lend_labels) when it runs in this database.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace maillon::depot {

struct LabelRow {
  std::string id;
  std::string title;
};

// The site's items among `ids` (all those still at the site, or lent from it, when none are
// named), then its lendable offers among them; by id, at most `limit` of each.
std::vector<LabelRow> site_item_labels(pqxx::work& tx, const std::string& site_id,
                                       const std::optional<std::vector<std::string>>& ids,
                                       int limit);
std::vector<LabelRow> site_lend_labels(pqxx::work& tx, const std::string& site_id,
                                       const std::optional<std::vector<std::string>>& ids,
                                       int limit);

// The ids of the site's items whose id starts with the 8 hex digits `prefix` (a short code):
// at most two, so that an ambiguous code is seen as such.
std::vector<std::string> items_by_code(pqxx::work& tx, const std::string& site_id,
                                       const std::string& prefix);

}  // namespace maillon::depot
