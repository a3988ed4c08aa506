// The one JSON form of a depot item for the API: its effective status (a lapsed reservation
// reads as available) and whether the desk should redirect it.
#include "services/depot/depot.hpp"

namespace maillon::depot {

nlohmann::json item_json(const ItemRow& row, const CommunityPolicy& policy, int64_t now_s,
                         const ItemViewer& viewer) {
  const DepotItem& i = row.item;
  const ItemStatus status = effective_status(i, now_s);
  nlohmann::json j = {{"id", i.id},
                      {"site_id", i.site_id},
                      {"community_id", row.community_id},
                      {"category", i.category},
                      {"title", i.title},
                      {"description", i.description},
                      {"condition", to_string(i.condition)},
                      {"weight_g", i.weight_g},
                      {"mode", to_string(i.mode)},
                      {"photos", i.photos},
                      {"status", to_string(status)},
                      {"deposited_at", format_rfc3339(i.deposited_at_s)},
                      {"available_since", format_rfc3339(i.available_since_s)},
                      {"loans_count", i.loans_count},
                      {"to_redirect", is_unclaimed(i, policy, now_s)}};
  if (status == ItemStatus::reserved) j["reserved_until"] = format_rfc3339(i.reserved_until_s);
  if (i.outlet) j["outlet"] = to_string(*i.outlet);
  if (i.outlet) j["partner"] = i.partner;
  if (status == ItemStatus::on_loan && i.loan) j["due_at"] = format_rfc3339(i.loan->due_at_s);
  // A member id is shown to staff, and to that member; never to another member.
  auto shown = [&](const std::string& member_id) {
    return !member_id.empty() && (viewer.staff || member_id == viewer.member_id);
  };
  if (status == ItemStatus::reserved && shown(i.reserved_by_member_id))
    j["reserved_by_member_id"] = i.reserved_by_member_id;
  if (shown(i.dropped_by_member_id)) j["dropped_by_member_id"] = i.dropped_by_member_id;
  if (shown(i.collected_by_member_id)) j["collected_by_member_id"] = i.collected_by_member_id;
  if (i.loan && shown(i.loan->member_id)) {
    nlohmann::json loan = {{"number", i.loan->number},
                           {"member_id", i.loan->member_id},
                           {"lent_at", format_rfc3339(i.loan->lent_at_s)},
                           {"due_at", format_rfc3339(i.loan->due_at_s)},
                           {"overdue", is_overdue(*i.loan, now_s)}};
    if (i.loan->returned_at_s) loan["returned_at"] = format_rfc3339(*i.loan->returned_at_s);
    j["loan"] = loan;
  }
  if (viewer.staff && !row.refused_transfer_id.empty()) {
    j["ledger_refusal"] = {{"transfer_id", row.refused_transfer_id},
                           {"reason", row.refused_reason}};
  }
  return j;
}

}  // namespace maillon::depot
