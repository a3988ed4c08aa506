// The depot stream: item.* (item.schema.json#/$defs/data) and the loan notices loan.late and
// loan.reminder. See typed_events.hpp for the pattern.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exchange/depot.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {

inline constexpr const char* kDepotStream = "depot";

enum class ItemChange { available, reserved, lent, returned, collected, unclaimed, redirected };

// An item as it now is. Reading requires item_id, site_id and status; the rest when present
// (types and enum values checked).
struct ItemChanged {
  ItemChange change = ItemChange::available;
  std::string item_id;
  std::string site_id;
  std::string community_id;
  std::string category;
  std::string title;
  std::string description;
  int64_t weight_g = 0;
  std::optional<ItemCondition> condition;
  std::optional<ItemMode> mode;
  ItemStatus status = ItemStatus::available;
  std::vector<std::string> photos;
  std::string at;
  std::optional<std::string> reserved_until;
  std::optional<std::string> reserved_by_member_id;
  std::optional<RedirectOutlet> outlet;
  std::optional<std::string> partner;
  std::optional<int64_t> revision;

  static Read<ItemChanged> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

enum class LoanNoticeType { late, reminder };

struct LoanNotice {
  LoanNoticeType type = LoanNoticeType::reminder;
  std::string item_id;
  std::string site_id;
  std::string member_id;
  std::string title;
  int64_t loan_number = 1;
  std::string due_at;
  // loan.late told again, N weeks after the due date (exchange/late_notices.hpp); absent on the
  // first notice and on reminders.
  std::optional<int64_t> late_notice;

  static Read<LoanNotice> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

std::optional<ItemChange> item_change(std::string_view type);

}  // namespace maillon
