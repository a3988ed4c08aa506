// What the depot's routes, consumers and jobs share: the clock, the category tree, and the one
// way each item change is written (row, events, ledger commands, impact counters together).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/categories.hpp"
#include "exchange/depot.hpp"
#include "services/common/clock.hpp"
#include "services/common/events_depot.hpp"
#include "services/common/time.hpp"
#include "services/depot/repository.hpp"

namespace maillon {
class Service;
}

namespace maillon::depot {

struct DepotContext {
  Service& service;
  CategoryTree tree;
  Clock clock;  // the service's (tests move it through MAILLON_CLOCK_OFFSET_FILE)

  int64_t now_s() const { return clock.now_s(); }
  // After a changed item is stored, in the same transaction: publishes item.<what>, sends the
  // result's ledger commands, adds its impact to the daily counters and counts the member
  // (when not empty) as active at the site that day.
  void record(pqxx::work& tx, const ItemRow& row, std::string_view what,
              const std::vector<DepotEffect>& effects, const std::optional<ItemEvent>& impact,
              const std::string& active_member_id) const;
  void publish_item(pqxx::work& tx, const ItemRow& row, std::string_view what) const;
};

void register_service(Service& service);
void register_item_routes(const std::shared_ptr<const DepotContext>& context);
void register_stats_routes(const std::shared_ptr<const DepotContext>& context);
void register_label_routes(const std::shared_ptr<const DepotContext>& context);  // labels.hpp
void register_consumers(const std::shared_ptr<const DepotContext>& context);

// Loan notices (consumers.cpp): loan.reminder, loan.late, and with `late_notice` N a late
// notice told again N weeks after the due date (late_notices.cpp's weekly job, run by
// register_consumers with the other jobs).
void publish_loan_notice(const DepotContext& c, pqxx::work& tx, const ItemRow& row,
                         LoanNoticeType type, std::optional<int32_t> late_notice = std::nullopt);
void repeat_late_notices(const DepotContext& c, pqxx::work& tx);

// The wire forms.
// Who reads an item: staff of its site see every member id and ledger refusal; a member sees
// only their own part (their reservation, their loan, what they dropped or collected); an
// anonymous reader sees no one. An item's people are nobody else's business.
struct ItemViewer {
  bool staff = false;
  std::string member_id;  // "" when anonymous
};
nlohmann::json item_json(const ItemRow& row, const CommunityPolicy& policy, int64_t now_s,
                         const ItemViewer& viewer);
std::string format_day(int64_t unix_s);  // YYYY-MM-DD (UTC)

}  // namespace maillon::depot
