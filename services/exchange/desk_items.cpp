// The depot's items on a site's desk, from the `depot` stream: each item.* event rewrites the
// item's row when it is newer (by the item's revision) than the row, in the event's transaction.
#include "services/exchange/desk_items.hpp"

#include <optional>

#include "services/common/auth.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/events_depot.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/time.hpp"
#include "services/exchange/desk_items_sql.hpp"
#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {
namespace {

using Json = nlohmann::json;

std::string text_of(const Json& data, const char* name) {
  auto it = data.find(name);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The fields of the API's Item that the event carries (no member but the reserver).
Json item_view(const Json& data) {
  Json item = Json::object();
  for (const char* field :
       {"site_id", "community_id", "category", "title", "description", "condition", "weight_g",
        "mode", "status", "photos", "reserved_until", "outlet", "partner"}) {
    if (data.contains(field)) item[field] = data[field];
  }
  item["id"] = data["item_id"];
  return item;
}

std::optional<bool> unclaimed_change(ItemChange change) {
  if (change == ItemChange::unclaimed) return true;
  if (change == ItemChange::returned) return false;
  return std::nullopt;
}

void apply_item_event(pqxx::work& tx, const Event& e) {
  if (!item_change(e.type)) return;  // loan notices: not on this list
  const ItemChanged item = ItemChanged::read(e).value();
  if (!is_uuid(e.community_id)) {
    log::warn("depot item event without its community: ignored", {{"event", e.id}});
    return;
  }
  std::optional<std::string> reserver, until;
  if (item.status == ItemStatus::reserved) {
    reserver = item.reserved_by_member_id;
    if (item.reserved_until && parse_rfc3339_s(*item.reserved_until)) until = item.reserved_until;
  }
  exec_cached(tx, kUpsertDeskItem, item.item_id, item.site_id, e.community_id,
              item.revision.value_or(0), std::string(to_string(item.status)),
              unclaimed_change(item.change), reserver, until, item_view(e.data).dump());
}

Json section(pqxx::work& tx, const char* sql, const std::string& site_id) {
  Json items = Json::array();
  for (const auto& r : exec_cached(tx, sql, site_id, kDeskItemsMax)) {
    Json item = Json::parse(r[0].c_str());
    if (!r[1].is_null() && *r[1].c_str() != '\0') item["reserved_by_member_id"] = r[1].c_str();
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

// A depot loan gone late keeps its borrower from borrowing between members too, until the item
// is back (item.returned) or lent again under a new loan (a renewal at the desk).
void apply_depot_loan_event(pqxx::work& tx, const Event& e) {
  if (e.type == "loan.late") {
    const LoanNotice late = LoanNotice::read(e).value();
    repo::record_depot_late_loan(tx, late.item_id, late.member_id, late.due_at);
  } else if (e.type == "item.returned" || e.type == "item.lent") {
    repo::forget_depot_late_loan(tx, ItemChanged::read(e).value().item_id);
  }
}

void register_desk_items(Service& service) {
  service.consume("depot", [](pqxx::work& tx, const Event& e) {
    apply_depot_loan_event(tx, e);
    apply_item_event(tx, e);
  });
}

DeskItems desk_items(pqxx::work& tx, const std::string& site_id) {
  return {section(tx, kToHandOut, site_id), section(tx, kToRedirect, site_id)};
}

void name_reservers(Json& items, Authenticator& auth) {
  for (Json& item : items) {
    const std::string member = text_of(item, "reserved_by_member_id");
    std::optional<Identity> who = member.empty() ? std::nullopt : auth.member_identity(member);
    item["reserved_by"] = who ? Json(who->display_name) : Json(nullptr);
  }
}

}  // namespace maillon::exchange
