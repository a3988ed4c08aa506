// Reading and writing the members stream's events (events_members.hpp).
#include "services/common/events_members.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "services/common/event_fields.hpp"
#include "services/common/events.hpp"
#include "services/common/json_body.hpp"
#include "services/common/policy_json.hpp"

namespace maillon {
namespace {

using Json = nlohmann::json;

constexpr EnumName<CommunityDescribed::Type> kCommunityTypes[] = {
    {CommunityDescribed::Type::created, "community.created"},
    {CommunityDescribed::Type::updated, "community.updated"}};
constexpr EnumName<SiteDescribed::Type> kSiteTypes[] = {
    {SiteDescribed::Type::created, "site.created"}, {SiteDescribed::Type::updated, "site.updated"}};
constexpr EnumName<MemberIdentity::Type> kIdentityTypes[] = {
    {MemberIdentity::Type::registered, "member.registered"},
    {MemberIdentity::Type::updated, "member.updated"}};
constexpr EnumName<MemberStanding::Type> kStandingTypes[] = {
    {MemberStanding::Type::approved, "member.approved"},
    {MemberStanding::Type::suspended, "member.suspended"},
    {MemberStanding::Type::reinstated, "member.reinstated"}};
constexpr EnumName<MemberStatus> kStatuses[] = {{MemberStatus::active, "active"},
                                                {MemberStatus::pending, "pending"},
                                                {MemberStatus::suspended, "suspended"}};
constexpr EnumName<ListingHidden::Side> kSides[] = {{ListingHidden::Side::offer, "offer"},
                                                    {ListingHidden::Side::request, "request"}};
// schemas/members/001_init.sql's CHECK on sites.kind.
constexpr std::string_view kSiteKinds[] = {"tiers_lieu", "objetotheque", "ressourcerie",
                                           "conciergerie"};

template <class E>
std::string name_of(std::span<const EnumName<E>> table, E value) {
  return std::string(enum_name(table, value));
}

template <class E>
std::optional<E> family_type(std::span<const EnumName<E>> table, const Event& e,
                             EventFields& fields) {
  std::string why;
  auto type = type_from(table, e, why);
  if (!type) fields.fail(why);
  return type;
}

double coordinate(EventFields& fields, const Json* location, const char* name, double bound) {
  if (fields.failed()) return 0;
  const auto it = location->find(name);
  if (it == location->end() || !it->is_number()) {
    fields.fail(std::string("field location.") + name + " is not a number");
    return 0;
  }
  const double value = it->get<double>();
  if (value < -bound || value > bound)
    fields.fail(std::string("location.") + name + " out of range");
  return value;
}

}  // namespace

std::optional<MemberStatus> member_status_named(std::string_view name) {
  return enum_from_name<MemberStatus>(kStatuses, name);
}

Read<CommunityDescribed> CommunityDescribed::read(const Event& e) {
  EventFields f(e.data);
  CommunityDescribed c;
  if (auto type = family_type<Type>(kCommunityTypes, e, f)) c.type = *type;
  c.community_id = f.uuid("community_id");
  c.name = f.text("name");
  const Json* policy = f.raw("policy");
  if (!f.failed()) {
    if (policy == nullptr || !policy->is_object()) {
      f.fail("field policy is not an object");
    } else {
      FieldErrors errors;
      c.policy = policy_from_json(*policy, errors);
      if (!errors.empty())
        f.fail("invalid " + errors.front().field + ": " + errors.front().message);
    }
  }
  return f.finish(std::move(c));
}

Json CommunityDescribed::data() const {
  return {{"community_id", community_id}, {"name", name}, {"policy", policy_to_json(policy)}};
}

std::string CommunityDescribed::type_name() const {
  return name_of<Type>(kCommunityTypes, type);
}

Read<SiteDescribed> SiteDescribed::read(const Event& e) {
  EventFields f(e.data);
  SiteDescribed s;
  if (auto type = family_type<Type>(kSiteTypes, e, f)) s.type = *type;
  s.id = f.uuid("id");
  s.community_id = f.uuid("community_id");
  s.name = f.text("name");
  s.kind = f.text("kind");
  if (!f.failed() &&
      std::find(std::begin(kSiteKinds), std::end(kSiteKinds), s.kind) == std::end(kSiteKinds)) {
    f.fail("unknown kind \"" + s.kind + "\"");
  }
  const Json* location = f.raw("location");
  if (!f.failed() && location == nullptr) f.fail("missing field location");
  if (!f.failed() && !location->is_object()) f.fail("field location is not an object");
  s.lat = coordinate(f, location, "lat", 90);
  s.lon = coordinate(f, location, "lon", 180);
  s.address = f.text("address");
  s.opening_hours = f.optional_text("opening_hours");
  return f.finish(std::move(s));
}

Json SiteDescribed::data() const {
  return {{"id", id},
          {"community_id", community_id},
          {"name", name},
          {"kind", kind},
          {"location", {{"lat", lat}, {"lon", lon}}},
          {"address", address},
          {"opening_hours", nullable(opening_hours)}};
}

std::string SiteDescribed::type_name() const {
  return name_of<Type>(kSiteTypes, type);
}

// Only the member and their community are required: the other fields came one by one, and a
// reader that needs one (the ledger: status) says what its absence means.
Read<MemberIdentity> MemberIdentity::read(const Event& e) {
  EventFields f(e.data);
  MemberIdentity m;
  if (auto type = family_type<Type>(kIdentityTypes, e, f)) m.type = *type;
  m.member_id = f.uuid("member_id");
  m.community_id = f.nullable_uuid("community_id");
  m.home_site_id = f.optional_uuid("home_site_id");
  m.display_name = f.optional_text("display_name");
  if (const Json* staff = f.raw("staff_site_ids"); staff != nullptr && !staff->is_null()) {
    if (!staff->is_array()) f.fail("field staff_site_ids is not an array");
    for (const Json& site : f.failed() ? Json::array() : *staff) {
      if (!site.is_string() || !is_uuid(site.get<std::string>())) {
        f.fail("field staff_site_ids holds something else than uuids");
        break;
      }
      m.staff_site_ids.push_back(site.get<std::string>());
    }
  }
  m.status = f.optional_enumeration<MemberStatus>("status", kStatuses);
  m.registered_by = f.optional_uuid("registered_by");
  return f.finish(std::move(m));
}

Json MemberIdentity::data() const {
  Json j = {{"member_id", member_id},
            {"community_id", nullable(community_id)},
            {"home_site_id", nullable(home_site_id)},
            {"display_name", display_name.value_or("")},
            {"staff_site_ids", staff_site_ids},
            {"status", status ? name_of<MemberStatus>(kStatuses, *status) : "active"}};
  if (registered_by) j["registered_by"] = *registered_by;
  return j;
}

std::string MemberIdentity::type_name() const {
  return name_of<Type>(kIdentityTypes, type);
}

Read<MemberStanding> MemberStanding::read(const Event& e) {
  EventFields f(e.data);
  MemberStanding m;
  if (auto type = family_type<Type>(kStandingTypes, e, f)) m.type = *type;
  m.member_id = f.uuid("member_id");
  m.community_id = f.uuid("community_id");
  if (m.type == Type::suspended) m.reason = f.text("reason");
  return f.finish(std::move(m));
}

Json MemberStanding::data() const {
  Json j = {{"member_id", member_id}, {"community_id", community_id}};
  if (type == Type::suspended) j["reason"] = reason.value_or("");
  return j;
}

std::string MemberStanding::type_name() const {
  return name_of<Type>(kStandingTypes, type);
}

Read<MemberErased> MemberErased::read(const Event& e) {
  EventFields f(e.data);
  MemberErased m;
  if (e.type != "member.erased") f.fail("unexpected event type \"" + e.type + "\"");
  m.member_id = f.uuid("member_id");
  m.community_id = f.nullable_uuid("community_id");
  m.pseudonym = f.text("pseudonym");
  return f.finish(std::move(m));
}

Json MemberErased::data() const {
  return {
      {"member_id", member_id}, {"community_id", nullable(community_id)}, {"pseudonym", pseudonym}};
}

Read<MemberContact> MemberContact::read(const Event& e) {
  EventFields f(e.data);
  MemberContact c;
  if (e.type != "member.contact") f.fail("unexpected event type \"" + e.type + "\"");
  c.member_id = f.uuid("member_id");
  c.community_id = e.community_id.empty() ? std::nullopt : std::optional(e.community_id);
  c.email = f.nullable_text("email");
  c.email_verified = f.boolean("email_verified");
  c.display_name = f.text("display_name");
  return f.finish(std::move(c));
}

Json MemberContact::data() const {
  return {{"member_id", member_id},
          {"email", nullable(email)},
          {"email_verified", email_verified},
          {"display_name", display_name}};
}

Read<ListingHidden> ListingHidden::read(const Event& e) {
  EventFields f(e.data);
  ListingHidden h;
  if (e.type != "listing.hidden") f.fail("unexpected event type \"" + e.type + "\"");
  h.listing = f.enumeration<Side>("listing", kSides);
  h.listing_id = f.uuid("listing_id");
  h.community_id = f.uuid("community_id");
  h.report_id = f.uuid("report_id");
  return f.finish(std::move(h));
}

Json ListingHidden::data() const {
  return {{"listing", name_of<Side>(kSides, listing)},
          {"listing_id", listing_id},
          {"community_id", community_id},
          {"report_id", report_id}};
}

}  // namespace maillon
