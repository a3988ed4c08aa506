#include "services/common/events_depot.hpp"

#include "services/common/event_fields.hpp"

namespace maillon {
namespace {

constexpr EnumName<ItemChange> kItemChanges[] = {{ItemChange::available, "item.available"},
                                                 {ItemChange::reserved, "item.reserved"},
                                                 {ItemChange::lent, "item.lent"},
                                                 {ItemChange::returned, "item.returned"},
                                                 {ItemChange::collected, "item.collected"},
                                                 {ItemChange::unclaimed, "item.unclaimed"},
                                                 {ItemChange::redirected, "item.redirected"}};
constexpr EnumName<LoanNoticeType> kNotices[] = {{LoanNoticeType::late, "loan.late"},
                                                 {LoanNoticeType::reminder, "loan.reminder"}};

// ItemChanged's plain fields, in reading order between the hand-read ones (status, community,
// condition, mode, photos, outlet). An absent text reads as "", an absent weight as 0.
constexpr auto kItemIds =
    std::tuple{event_field("item_id", &ItemChanged::item_id, &EventFields::uuid),
               event_field("site_id", &ItemChanged::site_id, &EventFields::uuid)};
constexpr auto kItemText =
    std::tuple{event_field("category", &ItemChanged::category, &EventFields::optional_text),
               event_field("title", &ItemChanged::title, &EventFields::optional_text),
               event_field("description", &ItemChanged::description, &EventFields::optional_text),
               event_field("weight_g", &ItemChanged::weight_g, &EventFields::optional_integer)};
constexpr auto kItemState = std::tuple{
    event_field("at", &ItemChanged::at, &EventFields::optional_text),
    event_field("reserved_until", &ItemChanged::reserved_until, &EventFields::optional_text),
    event_field("reserved_by_member_id", &ItemChanged::reserved_by_member_id,
                &EventFields::optional_uuid)};
constexpr auto kItemTail =
    std::tuple{event_field("partner", &ItemChanged::partner, &EventFields::optional_text),
               event_field("revision", &ItemChanged::revision, &EventFields::optional_integer)};

constexpr auto kNotice = std::tuple{
    event_field("item_id", &LoanNotice::item_id, &EventFields::uuid),
    event_field("site_id", &LoanNotice::site_id, &EventFields::uuid),
    event_field("member_id", &LoanNotice::member_id, &EventFields::uuid),
    event_field("title", &LoanNotice::title, &EventFields::text),
    event_field("loan_number", &LoanNotice::loan_number, &EventFields::integer),
    event_field("due_at", &LoanNotice::due_at, &EventFields::text),
    event_field("late_notice", &LoanNotice::late_notice, &EventFields::optional_integer)};

}  // namespace

std::optional<ItemChange> item_change(std::string_view type) {
  return enum_from_name(kItemChanges, type);
}

std::string ItemChanged::type_name() const {
  return std::string(enum_name(kItemChanges, change));
}

namespace {

void read_item_fields(EventFields& f, ItemChanged& i, const Event& e) {
  read_fields(f, i, kItemIds);
  if (auto status = f.parsed("status", item_status_from_string)) i.status = *status;
  i.community_id = f.optional_uuid("community_id").value_or(e.community_id);
  read_fields(f, i, kItemText);
  i.condition = f.optional_parsed("condition", item_condition_from_string);
  i.mode = f.optional_parsed("mode", item_mode_from_string);
  if (const nlohmann::json* photos = f.raw("photos")) {
    if (!photos->is_array()) f.fail("field photos is not an array");
    for (const auto& p : photos->is_array() ? *photos : nlohmann::json::array()) {
      if (p.is_string())
        i.photos.push_back(p.get<std::string>());
      else
        f.fail("field photos holds a non-string");
    }
  }
  read_fields(f, i, kItemState);
  i.outlet = f.optional_parsed("outlet", redirect_outlet_from_string);
  read_fields(f, i, kItemTail);
}

}  // namespace

Read<ItemChanged> ItemChanged::read(const Event& e) {
  return read_event<ItemChanged>(
      e, item_change(e.type), &ItemChanged::change,
      "not an item event: ", [&](EventFields& f, ItemChanged& i) { read_item_fields(f, i, e); });
}

nlohmann::json ItemChanged::data() const {
  nlohmann::json data = {
      {"community_id", community_id}, {"status", to_string(status)}, {"photos", photos}};
  write_fields(data, *this, kItemIds);
  write_fields(data, *this, kItemText);
  write_fields(data, *this, kItemState);
  write_fields(data, *this, kItemTail);
  if (condition) data["condition"] = to_string(*condition);
  if (mode) data["mode"] = to_string(*mode);
  if (outlet) data["outlet"] = to_string(*outlet);
  return data;
}

std::string LoanNotice::type_name() const {
  return std::string(enum_name(kNotices, type));
}

Read<LoanNotice> LoanNotice::read(const Event& e) {
  return read_event<LoanNotice>(
      e, enum_from_name(kNotices, e.type), &LoanNotice::type,
      "not a loan notice: ", [](EventFields& f, LoanNotice& n) { read_fields(f, n, kNotice); });
}

nlohmann::json LoanNotice::data() const {
  nlohmann::json data = nlohmann::json::object();
  write_fields(data, *this, kNotice);
  return data;
}

}  // namespace maillon
