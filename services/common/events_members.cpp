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
    {MemberStanding::Type::reinstated, "member.reinstated"},
    {MemberStanding::Type::password_changed, "member.password_changed"}};
constexpr EnumName<MemberStatus> kMemberStatuses[] = {{MemberStatus::active, "active"},
                                                      {MemberStatus::pending, "pending"},
                                                      {MemberStatus::suspended, "suspended"}};
constexpr EnumName<ListingHidden::Side> kHiddenSides[] = {
    {ListingHidden::Side::offer, "offer"}, {ListingHidden::Side::request, "request"}};
// schemas/members/001_init.sql's CHECK on sites.kind.
constexpr std::string_view kSiteKinds[] = {"tiers_lieu", "objetotheque", "ressourcerie",
                                           "conciergerie"};

template <class E>
std::string name_of(std::span<const EnumName<E>> table, E value) {
  return std::string(enum_name(table, value));
}

constexpr std::string_view kUnexpected = "unexpected event type ";

// The reading of a family's event: its type from the table, then the fields `body` reads.
template <class T, class Body>
Read<T> read_family(const Event& e, std::span<const EnumName<typename T::Type>> types, Body body) {
  return read_event<T>(e, enum_from_name(types, e.type), &T::type, kUnexpected, body);
}

// The reading of the one type `type`.
template <class T, class Body>
Read<T> read_one(const Event& e, std::string_view type, Body body) {
  return read_event<T>(e, e.type == type, kUnexpected, body);
}

constexpr auto kErased =
    std::tuple{event_field("member_id", &MemberErased::member_id, &EventFields::uuid),
               event_field("community_id", &MemberErased::community_id, &EventFields::nullable_uuid,
                           WhenUnset::null),
               event_field("pseudonym", &MemberErased::pseudonym, &EventFields::text)};

constexpr auto kContactId =
    std::tuple{event_field("member_id", &MemberContact::member_id, &EventFields::uuid)};
constexpr auto kContact = std::tuple{
    event_field("email", &MemberContact::email, &EventFields::nullable_text, WhenUnset::null),
    event_field("email_verified", &MemberContact::email_verified, &EventFields::boolean),
    event_field("display_name", &MemberContact::display_name, &EventFields::text)};

constexpr auto kHidden =
    std::tuple{event_field("listing_id", &ListingHidden::listing_id, &EventFields::uuid),
               event_field("community_id", &ListingHidden::community_id, &EventFields::uuid),
               event_field("report_id", &ListingHidden::report_id, &EventFields::uuid)};

constexpr auto kSiteNames =
    std::tuple{event_field("id", &SiteDescribed::id, &EventFields::uuid),
               event_field("community_id", &SiteDescribed::community_id, &EventFields::uuid),
               event_field("name", &SiteDescribed::name, &EventFields::text),
               event_field("kind", &SiteDescribed::kind, &EventFields::text)};
constexpr auto kSiteAddress =
    std::tuple{event_field("address", &SiteDescribed::address, &EventFields::text),
               event_field("opening_hours", &SiteDescribed::opening_hours,
                           &EventFields::optional_text, WhenUnset::null)};

constexpr auto kIdentity =
    std::tuple{event_field("member_id", &MemberIdentity::member_id, &EventFields::uuid),
               event_field("community_id", &MemberIdentity::community_id,
                           &EventFields::nullable_uuid, WhenUnset::null),
               event_field("home_site_id", &MemberIdentity::home_site_id,
                           &EventFields::optional_uuid, WhenUnset::null)};

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
  return enum_from_name<MemberStatus>(kMemberStatuses, name);
}

Read<CommunityDescribed> CommunityDescribed::read(const Event& e) {
  return read_family<CommunityDescribed>(e, kCommunityTypes, [](EventFields& f, auto& c) {
    c.community_id = f.uuid("community_id");
    c.name = f.text("name");
    const Json* policy = f.raw("policy");
    if (f.failed()) return;
    if (policy == nullptr || !policy->is_object()) {
      f.fail("field policy is not an object");
      return;
    }
    FieldErrors errors;
    c.policy = policy_from_json(*policy, errors);
    if (!errors.empty()) f.fail("invalid " + errors.front().field + ": " + errors.front().message);
  });
}

Json CommunityDescribed::data() const {
  return {{"community_id", community_id}, {"name", name}, {"policy", policy_to_json(policy)}};
}

std::string CommunityDescribed::type_name() const {
  return name_of<Type>(kCommunityTypes, type);
}

Read<SiteDescribed> SiteDescribed::read(const Event& e) {
  return read_family<SiteDescribed>(e, kSiteTypes, [](EventFields& f, auto& s) {
    read_fields(f, s, kSiteNames);
    if (!f.failed() &&
        std::find(std::begin(kSiteKinds), std::end(kSiteKinds), s.kind) == std::end(kSiteKinds)) {
      f.fail("unknown kind \"" + s.kind + "\"");
    }
    const Json* location = f.raw("location");
    if (!f.failed() && location == nullptr) f.fail("missing field location");
    if (!f.failed() && !location->is_object()) f.fail("field location is not an object");
    s.lat = coordinate(f, location, "lat", 90);
    s.lon = coordinate(f, location, "lon", 180);
    read_fields(f, s, kSiteAddress);
  });
}

Json SiteDescribed::data() const {
  Json j = {{"location", {{"lat", lat}, {"lon", lon}}}};
  write_fields(j, *this, kSiteNames);
  write_fields(j, *this, kSiteAddress);
  return j;
}

std::string SiteDescribed::type_name() const {
  return name_of<Type>(kSiteTypes, type);
}

// Only the member and their community are required: the other fields came one by one, and a
// reader that needs one (the ledger: status) says what its absence means.
Read<MemberIdentity> MemberIdentity::read(const Event& e) {
  return read_family<MemberIdentity>(e, kIdentityTypes, [](EventFields& f, auto& m) {
    read_fields(f, m, kIdentity);
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
    m.status = f.optional_enumeration<MemberStatus>("status", kMemberStatuses);
    m.registered_by = f.optional_uuid("registered_by");
    m.community_admin = f.optional_boolean("community_admin");
  });
}

Json MemberIdentity::data() const {
  Json j = {{"display_name", display_name.value_or("")},
            {"staff_site_ids", staff_site_ids},
            {"status", status ? name_of<MemberStatus>(kMemberStatuses, *status) : "active"}};
  write_fields(j, *this, kIdentity);
  if (registered_by) j["registered_by"] = *registered_by;
  if (community_admin) j["community_admin"] = *community_admin;
  return j;
}

std::string MemberIdentity::type_name() const {
  return name_of<Type>(kIdentityTypes, type);
}

Read<MemberStanding> MemberStanding::read(const Event& e) {
  return read_family<MemberStanding>(e, kStandingTypes, [](EventFields& f, auto& m) {
    m.member_id = f.uuid("member_id");
    m.community_id = f.uuid("community_id");
    if (m.type == Type::suspended) m.reason = f.text("reason");
  });
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
  return read_one<MemberErased>(e, "member.erased",
                                [](EventFields& f, auto& m) { read_fields(f, m, kErased); });
}

Json MemberErased::data() const {
  Json j = Json::object();
  write_fields(j, *this, kErased);
  return j;
}

Read<MemberContact> MemberContact::read(const Event& e) {
  return read_one<MemberContact>(e, "member.contact", [&](EventFields& f, auto& c) {
    read_fields(f, c, kContactId);
    c.community_id = e.community_id.empty() ? std::nullopt : std::optional(e.community_id);
    read_fields(f, c, kContact);
  });
}

Json MemberContact::data() const {
  Json j = Json::object();
  write_fields(j, *this, kContactId);
  write_fields(j, *this, kContact);
  return j;
}

Read<ListingHidden> ListingHidden::read(const Event& e) {
  return read_one<ListingHidden>(e, "listing.hidden", [](EventFields& f, auto& h) {
    h.listing = f.enumeration<Side>("listing", kHiddenSides);
    read_fields(f, h, kHidden);
  });
}

Json ListingHidden::data() const {
  Json j = {{"listing", name_of<Side>(kHiddenSides, listing)}};
  write_fields(j, *this, kHidden);
  return j;
}

}  // namespace maillon
