#include "services/common/events_depot.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

constexpr EnumName<ItemChange> kChanges[] = {{ItemChange::available, "item.available"},
                                             {ItemChange::reserved, "item.reserved"},
                                             {ItemChange::lent, "item.lent"},
                                             {ItemChange::returned, "item.returned"},
                                             {ItemChange::collected, "item.collected"},
                                             {ItemChange::unclaimed, "item.unclaimed"},
                                             {ItemChange::redirected, "item.redirected"}};
constexpr EnumName<LoanNoticeType> kNotices[] = {{LoanNoticeType::late, "loan.late"},
                                                 {LoanNoticeType::reminder, "loan.reminder"}};

std::optional<ItemStatus> status_of(std::string_view t) {
  return item_status_from_string(t);
}
std::optional<ItemCondition> condition_of(std::string_view t) {
  return item_condition_from_string(t);
}
std::optional<ItemMode> mode_of(std::string_view t) {
  return item_mode_from_string(t);
}
std::optional<RedirectOutlet> outlet_of(std::string_view t) {
  return redirect_outlet_from_string(t);
}

}  // namespace

std::optional<ItemChange> item_change(std::string_view type) {
  return enum_from_name(kChanges, type);
}

std::string ItemChanged::type_name() const {
  return std::string(enum_name(kChanges, change));
}

Read<ItemChanged> ItemChanged::read(const Event& e) {
  ItemChanged i;
  const auto change = item_change(e.type);
  if (!change) return ReadFailure{"not an item event: \"" + e.type + "\""};
  i.change = *change;
  EventFields f(e.data);
  i.item_id = f.uuid("item_id");
  i.site_id = f.uuid("site_id");
  if (auto status = f.parsed("status", status_of)) i.status = *status;
  i.community_id = f.optional_uuid("community_id").value_or(e.community_id);
  i.category = f.optional_text("category").value_or("");
  i.title = f.optional_text("title").value_or("");
  i.description = f.optional_text("description").value_or("");
  i.weight_g = f.optional_integer("weight_g").value_or(0);
  i.condition = f.optional_parsed("condition", condition_of);
  i.mode = f.optional_parsed("mode", mode_of);
  if (const nlohmann::json* photos = f.raw("photos")) {
    if (!photos->is_array()) f.fail("field photos is not an array");
    for (const auto& p : photos->is_array() ? *photos : nlohmann::json::array()) {
      if (p.is_string())
        i.photos.push_back(p.get<std::string>());
      else
        f.fail("field photos holds a non-string");
    }
  }
  i.at = f.optional_text("at").value_or("");
  i.reserved_until = f.optional_text("reserved_until");
  i.reserved_by_member_id = f.optional_uuid("reserved_by_member_id");
  i.outlet = f.optional_parsed("outlet", outlet_of);
  i.partner = f.optional_text("partner");
  i.revision = f.optional_integer("revision");
  return f.finish(std::move(i));
}

nlohmann::json ItemChanged::data() const {
  nlohmann::json data = {{"item_id", item_id},
                         {"site_id", site_id},
                         {"community_id", community_id},
                         {"category", category},
                         {"title", title},
                         {"description", description},
                         {"weight_g", weight_g},
                         {"status", to_string(status)},
                         {"photos", photos},
                         {"at", at}};
  if (condition) data["condition"] = to_string(*condition);
  if (mode) data["mode"] = to_string(*mode);
  if (revision) data["revision"] = *revision;
  if (reserved_until) data["reserved_until"] = *reserved_until;
  if (reserved_by_member_id) data["reserved_by_member_id"] = *reserved_by_member_id;
  if (outlet) data["outlet"] = to_string(*outlet);
  if (partner) data["partner"] = *partner;
  return data;
}

std::string LoanNotice::type_name() const {
  return std::string(enum_name(kNotices, type));
}

Read<LoanNotice> LoanNotice::read(const Event& e) {
  LoanNotice n;
  const auto type = enum_from_name(kNotices, e.type);
  if (!type) return ReadFailure{"not a loan notice: \"" + e.type + "\""};
  n.type = *type;
  EventFields f(e.data);
  n.item_id = f.uuid("item_id");
  n.site_id = f.uuid("site_id");
  n.member_id = f.uuid("member_id");
  n.title = f.text("title");
  n.loan_number = f.integer("loan_number");
  n.due_at = f.text("due_at");
  return f.finish(std::move(n));
}

nlohmann::json LoanNotice::data() const {
  return {{"item_id", item_id}, {"site_id", site_id},         {"member_id", member_id},
          {"title", title},     {"loan_number", loan_number}, {"due_at", due_at}};
}

}  // namespace maillon
