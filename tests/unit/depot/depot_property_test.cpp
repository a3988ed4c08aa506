// Random sequences of desk and member commands over a few items, with time moving on: items
// stay valid, nobody holds more reservations than the policy allows, and no ledger transfer
// id is ever used twice.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <tuple>
#include <vector>

#include "depot_builders.hpp"

namespace maillon::test {
namespace {

constexpr int kMembers = 3;
const std::vector<std::string> kMemberIds = {"member-0", "member-1", "member-2"};

// command, item, member (kMembers: staff or nobody), seconds to wait before, loan days
using Step = std::tuple<int, int, int, int64_t, int64_t>;

BorrowerStanding standing_of(const std::vector<DepotItem>& items, const std::string& member_id,
                             int64_t now_s) {
  std::vector<Loan> loans;
  for (const DepotItem& item : items) {
    if (item.loan && item.loan->member_id == member_id) loans.push_back(*item.loan);
  }
  return {count_active_reservations(items, member_id, now_s), has_overdue_loan(loans, now_s)};
}

DepotResult apply(std::vector<DepotItem>& items, const Step& step, const CommunityPolicy& policy,
                  int64_t now_s) {
  const auto& [command, item_index, member_index, wait_s, loan_days] = step;
  DepotItem& item = items[static_cast<size_t>(item_index)];
  const bool staff = member_index == kMembers;
  const std::string member = staff ? "" : kMemberIds[static_cast<size_t>(member_index)];
  const std::string borrower = staff ? kMemberIds[0] : member;
  switch (command) {
    case 0:
      return reserve_item(item, borrower, standing_of(items, borrower, now_s), policy, now_s);
    case 1:
      return release_item(item, staff ? "staff-1" : member, staff, now_s);
    case 2:
      return collect_item(item, member, now_s);
    case 3:
      return lend_item(item, borrower, now_s + loan_days * kDay,
                       standing_of(items, borrower, now_s), policy, now_s);
    case 4:
      return return_item(item, ItemCondition::fair, now_s);
    default:
      return redirect_item(item, RedirectOutlet::reuse, "Partenaire", now_s);
  }
}

RC_GTEST_PROP(DepotProperty, random_commands_keep_items_valid_and_reservations_bounded, ()) {
  CommunityPolicy policy;
  policy.max_active_reservations = *rc::gen::inRange<int64_t>(1, 3);
  const int item_count = *rc::gen::inRange(1, 7);
  std::vector<DepotItem> items;
  std::set<std::string> transfer_ids;
  for (int i = 0; i < item_count; ++i) {
    const IntakeResult in =
        intake_item(intake(i % 2 == 0 ? "give" : "lend", "item-" + std::to_string(i)), categories(),
                    policy, kT0);
    items.push_back(in.item);
    for (const DepotEffect& effect : in.effects) {
      RC_ASSERT(transfer_ids.insert(effect.transfer_id).second);
    }
  }
  const auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::tuple(
      rc::gen::weightedElement<int>({{6, 0}, {2, 1}, {1, 2}, {4, 3}, {3, 4}, {1, 5}}),
      rc::gen::inRange(0, item_count), rc::gen::inRange(0, kMembers + 1),
      rc::gen::inRange<int64_t>(0, 2 * kDay), rc::gen::inRange<int64_t>(-1, 95)));
  int64_t now_s = kT0;
  bool saw_limit = false;
  bool saw_overdue = false;
  for (const Step& step : steps) {
    now_s += std::get<3>(step);
    const std::vector<DepotItem> before = items;
    const DepotResult result = apply(items, step, policy, now_s);
    if (!result.ok()) {
      RC_ASSERT(items == before);
      RC_ASSERT(result.effects.empty() && !result.impact);
    }
    for (const DepotItem& item : items) RC_ASSERT(depot_item_invariants_hold(item));
    for (const std::string& member : kMemberIds) {
      RC_ASSERT(count_active_reservations(items, member, now_s) <= policy.max_active_reservations);
    }
    for (const DepotEffect& effect : result.effects) {
      RC_ASSERT(effect.kind == DepotEffectKind::ledger_loan_charge);
      RC_ASSERT(transfer_ids.insert(effect.transfer_id).second);
    }
    saw_limit = saw_limit || result.outcome == DepotOutcome::reservation_limit;
    saw_overdue = saw_overdue || result.outcome == DepotOutcome::overdue_loan;
  }
  RC_CLASSIFY(saw_limit, "reservation limit reached");
  RC_CLASSIFY(saw_overdue, "overdue borrower refused");
}

}  // namespace
}  // namespace maillon::test
