// Wiring of the depot: the clock, the category tree, and how an item change becomes events,
// ledger commands and impact counters in the transaction that stores it.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "services/common/category_file.hpp"
#include "services/common/events_depot.hpp"
#include "services/common/events_ledger.hpp"
#include "services/common/ids.hpp"
#include "services/common/service.hpp"
#include "services/depot/depot.hpp"

namespace maillon::depot {
namespace {

// The ledger's grant command: an immediate transfer where an absent member id is the
// community's account.
LedgerCommandEvent ledger_grant(const DepotEffect& effect, const std::string& item_id) {
  LedgerCommandEvent grant;
  grant.type = LedgerCommandType::grant;
  grant.transfer_id = effect.transfer_id;
  grant.minutes = effect.minutes;
  grant.ref = "item:" + item_id;
  if (effect.kind == DepotEffectKind::ledger_deposit_reward) {
    grant.kind = TransferKind::deposit_reward;  // community -> depositor
    grant.to_member_id = effect.member_id;
  } else {
    grant.kind = TransferKind::loan;  // borrower -> community
    grant.from_member_id = effect.member_id;
  }
  return grant;
}

void add_impact(pqxx::work& tx, const std::string& community_id, const ItemEvent& impact) {
  const ItemEvent events[] = {impact};
  for (const ImpactRow& r : aggregate_impact(events)) {
    DayCounters add;
    add.items = r.figures;
    add_counters(tx, community_id, r.site_id, format_day(r.day_start_s), add);
  }
}

}  // namespace

void DepotContext::publish_item(pqxx::work& tx, const ItemRow& row, std::string_view what) const {
  const DepotItem& i = row.item;
  const auto change = item_change("item." + std::string(what));
  if (!change) throw std::logic_error("no such item event: item." + std::string(what));
  ItemChanged e;
  e.change = *change;
  e.item_id = i.id;
  e.site_id = i.site_id;
  e.community_id = row.community_id;
  e.category = i.category;
  e.title = i.title;
  e.description = i.description;
  e.weight_g = i.weight_g;
  e.condition = i.condition;
  e.mode = i.mode;
  e.status = i.status;
  e.photos = i.photos;
  e.at = format_rfc3339(now_s());
  e.revision = row.revision;
  if (i.status == ItemStatus::reserved) {
    e.reserved_until = format_rfc3339(i.reserved_until_s);
    // For the exchange service's desk, which shows staff whom to hand the item to.
    e.reserved_by_member_id = i.reserved_by_member_id;
  }
  if (i.outlet) e.outlet = *i.outlet;
  if (i.outlet && !i.partner.empty()) e.partner = i.partner;
  service.outbox.add(tx, kDepotStream, e.type_name(), row.community_id, e.data());
  // A day with any event at a site is a row of the open-data export, zeros where nothing was
  // counted (a reservation, a lapse, a return): adding nothing creates the row.
  add_counters(tx, row.community_id, i.site_id, format_day(now_s()), DayCounters{});
}

void DepotContext::record(pqxx::work& tx, const ItemRow& row, std::string_view what,
                          const std::vector<DepotEffect>& effects,
                          const std::optional<ItemEvent>& impact,
                          const std::string& active_member_id) const {
  publish_item(tx, row, what);
  for (const DepotEffect& effect : effects) {
    // Named after the transfer: a retried change publishes the same command id, and the
    // ledger's idempotent transfer ids make it move credits once.
    const LedgerCommandEvent grant = ledger_grant(effect, row.item.id);
    service.outbox.add(tx, kLedgerCommandsStream, grant.type_name(), row.community_id, grant.data(),
                       uuid_from_name(effect.transfer_id));
  }
  if (impact) add_impact(tx, row.community_id, *impact);
  if (!active_member_id.empty()) {
    mark_active(tx, row.community_id, row.item.site_id, format_day(now_s()),
                token_hash(active_member_id));
  }
}

std::string format_day(int64_t unix_s) {
  return format_rfc3339(unix_s).substr(0, 10);
}

void register_service(Service& service) {
  CategoryTree tree = load_category_tree(service.config.schemas_dir + "/categories.json");
  auto context =
      std::make_shared<const DepotContext>(DepotContext{service, std::move(tree), service.clock});
  register_item_routes(context);
  register_stats_routes(context);
  register_label_routes(context);
  register_consumers(context);
}

}  // namespace maillon::depot
