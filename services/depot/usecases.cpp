// The depot's use cases (see usecases.hpp): who may act on an item, the domain transition each
// route runs, and what it stores and records.
#include "services/depot/usecases.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "services/common/auth.hpp"
#include "services/common/db.hpp"
#include "services/common/directory.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/media_photos.hpp"
#include "services/common/service.hpp"

namespace maillon::depot {
namespace {

template <class T>
Answer<T> refused(DepotRefusal refusal, const std::string& field = {}) {
  Answer<T> answer;
  answer.refusal = refusal;
  answer.field = field;
  return answer;
}

ItemViewer viewer_of(const std::optional<Identity>& who, const std::string& site_id) {
  if (!who) return {};
  return {who->is_staff_of(site_id), who->member_id};
}

BorrowerStanding standing_of(pqxx::work& tx, const std::string& member_id, int64_t now_s) {
  std::vector<DepotItem> reserved = reserved_items_of(tx, member_id);
  std::vector<Loan> loans = open_loans_of(tx, member_id);
  // A late loan between members counts as much as one at the depot.
  return {count_active_reservations(reserved, member_id, now_s),
          has_overdue_loan(loans, now_s) || has_member_late_loan(tx, member_id)};
}

// What a transition did: the domain's result, the event's suffix (item.<what>) and the member
// counted as active at the site today (when not empty).
struct Step {
  DepotResult result;
  std::string what;
  std::string active_member;
};

// The member a staff action names must belong to the item's community.
constexpr const char* kMemberField = "member_id";

Step run_action(pqxx::work& tx, ItemRow& row, const CommunityPolicy& policy, int64_t now_s,
                const Identity& who, ItemAction action, const ActionInput& input) {
  DepotItem& item = row.item;
  switch (action) {
    case ItemAction::reserve:
      return {
          reserve_item(item, who.member_id, standing_of(tx, who.member_id, now_s), policy, now_s),
          "reserved", ""};
    case ItemAction::release:
      return {release_item(item, who.member_id, who.is_staff_of(item.site_id), now_s), "available",
              ""};
    case ItemAction::collect: {
      // Handed to its reserver when nobody is named.
      std::string to = input.member_id;
      if (to.empty() && effective_status(item, now_s) == ItemStatus::reserved) {
        to = item.reserved_by_member_id;
      }
      return {collect_item(item, to, now_s), "collected", to};
    }
    case ItemAction::lend: {
      BorrowerStanding standing = standing_of(tx, input.member_id, now_s);
      if (policy.loan_cost > 0)
        standing.available_minutes = ledger_available_minutes(tx, input.member_id);
      DepotResult result =
          lend_item(item, input.member_id, input.due_at_s, standing, policy, now_s);
      if (result.ok()) {
        row.refused_transfer_id.clear();  // a refusal concerned an earlier loan
        row.refused_reason.clear();
      }
      return {std::move(result), "lent", input.member_id};
    }
    case ItemAction::give_back:
      return {return_item(item, input.condition, now_s), "returned", ""};
    case ItemAction::redirect:
      return {redirect_item(item, input.outlet, input.partner, now_s), "redirected", ""};
  }
  throw std::logic_error("an item action without a transition");
}

bool staff_only(ItemAction action) {
  return action != ItemAction::reserve && action != ItemAction::release;
}

}  // namespace

Answer<ItemView> DepotUseCases::intake(const Identity& who, ItemIntake in) {
  in.id = new_uuid();
  if (!is_uuid(in.site_id)) return refused<ItemView>(DepotRefusal::not_found);
  if (!who.is_staff_of(in.site_id)) return refused<ItemView>(DepotRefusal::staff_only);
  // The depositor earns deposit_reward from the community: staff never grant it to themselves.
  const std::string& depositor = in.dropped_by_member_id;
  if (!depositor.empty() && depositor == who.actor_id())
    return refused<ItemView>(DepotRefusal::own_deposit);
  std::string depositor_community;
  if (!depositor.empty()) {
    const std::optional<Identity> member = c_->service.auth.member_identity(depositor);
    if (!member || member->community_id.empty())
      return refused<ItemView>(DepotRefusal::unknown_member, "dropped_by_member_id");
    depositor_community = member->community_id;
  }
  return c_->service.db.transact([&](pqxx::work& tx) -> Answer<ItemView> {
    std::optional<directory::Site> site = directory::site(tx, in.site_id);
    std::optional<CommunityPolicy> policy;
    if (site) policy = directory::policy_of(tx, site->community_id);
    if (!site || !policy) return refused<ItemView>(DepotRefusal::site_unknown);
    if (!depositor.empty() && depositor_community != site->community_id)
      return refused<ItemView>(DepotRefusal::unknown_member, "dropped_by_member_id");
    const int64_t now_s = c_->now_s();
    IntakeResult result = intake_item(in, c_->tree, *policy, now_s);
    // The photos are uploads of the one taking the item in (POST /v1/photos).
    if (result.errors.empty()) result.errors = photos_not_owned(tx, who.member_id, in.photos);
    if (!result.errors.empty()) {
      auto answer = refused<ItemView>(DepotRefusal::item_invalid);
      answer.errors = std::move(result.errors);
      return answer;
    }
    ItemRow row;
    row.item = std::move(result.item);
    row.community_id = site->community_id;
    row.acted_by = who.actor_id();
    insert_item(tx, row);
    c_->record(tx, row, "available", result.effects, result.impact, depositor);
    Answer<ItemView> answer;
    answer.value = {std::move(row), *policy, now_s, {true, who.member_id}};
    return answer;
  });
}

Answer<ItemPage> DepotUseCases::list(const std::optional<Identity>& who, ItemFilter filter) {
  const int limit = filter.limit;
  filter.limit = limit + 1;
  const ItemViewer viewer = viewer_of(who, filter.site_id);
  return c_->service.db.transact([&](pqxx::work& tx) -> Answer<ItemPage> {
    std::optional<directory::Site> site = directory::site(tx, filter.site_id);
    if (!site) return refused<ItemPage>(DepotRefusal::site_unknown);
    const CommunityPolicy policy =
        directory::policy_of(tx, site->community_id).value_or(CommunityPolicy{});
    filter.now_s = c_->now_s();
    filter.unclaimed_before_s = filter.now_s - policy.unclaimed_days * 86400;
    std::vector<ItemRow> rows = list_items(tx, filter);
    Answer<ItemPage> answer;
    const int shown = std::min<int>(limit, static_cast<int>(rows.size()));
    for (int k = 0; k < shown; ++k) {
      answer.value.items.push_back({std::move(rows[k]), policy, filter.now_s, viewer});
    }
    if (rows.size() > static_cast<size_t>(limit))
      answer.value.next_after_id = answer.value.items.back().row.item.id;
    return answer;
  });
}

Answer<ItemView> DepotUseCases::get(const std::optional<Identity>& who, const std::string& id) {
  if (!is_uuid(id)) return refused<ItemView>(DepotRefusal::not_found);
  return c_->service.db.transact([&](pqxx::work& tx) -> Answer<ItemView> {
    std::optional<ItemRow> row = find_item(tx, id, false);
    if (!row) return refused<ItemView>(DepotRefusal::not_found);
    CommunityPolicy policy =
        directory::policy_of(tx, row->community_id).value_or(CommunityPolicy{});
    const ItemViewer viewer = viewer_of(who, row->item.site_id);
    Answer<ItemView> answer;
    answer.value = {std::move(*row), policy, c_->now_s(), viewer};
    return answer;
  });
}

Answer<ItemView> DepotUseCases::act(const Identity& who, const std::string& item_id,
                                    ItemAction action, const ActionInput& input) {
  if (action == ItemAction::reserve && who.status == "suspended")
    return refused<ItemView>(DepotRefusal::member_suspended);
  const bool names_member = action == ItemAction::collect || action == ItemAction::lend;
  std::string member_community;
  if (names_member && !input.member_id.empty()) {
    const std::optional<Identity> member = c_->service.auth.member_identity(input.member_id);
    if (!member || member->community_id.empty())
      return refused<ItemView>(DepotRefusal::unknown_member, kMemberField);
    member_community = member->community_id;
  }
  // Reserving and lending count the member's other items: the member's lock comes first.
  const std::string lock_member_id = action == ItemAction::reserve ? who.member_id
                                     : action == ItemAction::lend  ? input.member_id
                                                                   : std::string();
  if (!is_uuid(item_id)) return refused<ItemView>(DepotRefusal::not_found);
  return c_->service.db.transact([&](pqxx::work& tx) -> Answer<ItemView> {
    // Member first, item second, everywhere: no two transactions wait on each other in a cycle.
    if (!lock_member_id.empty()) lock_member(tx, lock_member_id);
    std::optional<ItemRow> row = find_item(tx, item_id, true);
    if (!row) return refused<ItemView>(DepotRefusal::not_found);
    // Items are public (GET /v1/items/{id}): refusals are 403, they reveal nothing.
    const bool staff = who.is_staff_of(row->item.site_id);
    if (staff_only(action) && !staff) return refused<ItemView>(DepotRefusal::staff_only);
    if (!staff && row->community_id != who.community_id)
      return refused<ItemView>(DepotRefusal::community_members_only);
    CommunityPolicy policy =
        directory::policy_of(tx, row->community_id).value_or(CommunityPolicy{});
    const int64_t now_s = c_->now_s();
    const DepotItem before = row->item;
    const ItemViewer viewer = viewer_of(who, row->item.site_id);
    if (names_member && !input.member_id.empty() && member_community != row->community_id)
      return refused<ItemView>(DepotRefusal::unknown_member, kMemberField);
    Step step = run_action(tx, *row, policy, now_s, who, action, input);
    Answer<ItemView> answer;
    if (!step.result.ok()) {
      answer.outcome = step.result.outcome;
      return answer;
    }
    // A retried reservation by its holder changes nothing: nothing to store or announce.
    if (!(row->item == before && step.result.effects.empty())) {
      // Staff who acted, at the desk or for a member; empty when a member acted alone.
      row->acted_by = staff_only(action) ? who.actor_id() : who.acting_staff_id;
      update_item(tx, *row);
      c_->record(tx, *row, step.what, step.result.effects, step.result.impact, step.active_member);
    }
    answer.value = {std::move(*row), policy, now_s, viewer};
    return answer;
  });
}

}  // namespace maillon::depot
