// PATCH /v1/communities/{id} and PATCH /v1/sites/{id} (directory_admin.hpp).
#include "services/members/directory_admin.hpp"

#include <algorithm>
#include <array>

#include "services/common/auth.hpp"
#include "services/common/errors.hpp"
#include "services/common/events.hpp"
#include "services/common/events_members.hpp"
#include "services/common/http.hpp"
#include "services/common/json_body.hpp"
#include "services/common/policy_json.hpp"
#include "services/common/service.hpp"
#include "services/members/repository.hpp"
#include "services/members/sites_hours.hpp"

namespace maillon::members {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kNameMax = 120;
constexpr std::size_t kAddressMax = 300;
constexpr std::array<std::string_view, 4> kSiteKinds = {"tiers_lieu", "objetotheque",
                                                        "ressourcerie", "conciergerie"};

std::string trimmed(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// A field that may be left out but not emptied: null is refused.
void refuse_null(const Json& j, BodyReader& r, std::initializer_list<const char*> fields) {
  for (const char* field : fields) {
    if (j.contains(field) && j[field].is_null()) r.add_error(field, "ne peut pas être effacé");
  }
}

std::optional<std::string> read_name(BodyReader& r) {
  auto name = r.text("name", kNameMax);
  if (!name) return std::nullopt;
  std::string value = trimmed(*name);
  if (value.size() < 2) r.add_error("name", "au moins 2 caractères");
  return value;
}

Json community_json(const repo::CommunityRow& c) {
  return {{"id", c.id}, {"name", c.name}, {"policy", Json::parse(c.policy_json)}};
}

// The current policy with the patch's fields over it, validated whole (as POST validates one).
CommunityPolicy merged_policy(const repo::CommunityRow& current, const Json& patch) {
  Json merged = Json::parse(current.policy_json);
  for (const auto& [field, value] : patch.items()) merged[field] = value;
  FieldErrors errors;
  CommunityPolicy policy = policy_from_json(merged, errors);
  if (!errors.empty()) throw invalid_input("Politique invalide.", errors);
  return policy;
}

void apply_site_patch(repo::SiteRow& site, const SitePatch& patch) {
  if (patch.name) site.name = *patch.name;
  if (patch.kind) site.kind = *patch.kind;
  if (patch.location) site.location = *patch.location;
  if (patch.address) site.address = *patch.address;
  if (patch.opening_hours) site.opening_hours = *patch.opening_hours;
}

class DirectoryAdmin {
 public:
  explicit DirectoryAdmin(Service& s) : s_(s) {}

  // Admins, and community admins of that community (never while acting for a member).
  Response patch_community(const Request& r) {
    const Identity who = s_.auth.require(r);
    const std::string& id = r.param("id");
    if (!is_uuid(id)) throw not_found("Communauté introuvable.");
    if (!who.acting_staff_id.empty() || !who.administers(id))
      throw forbidden("Action réservée aux administrateurs de cette communauté.");
    const CommunityPatch patch = parse_community_patch(r.body);
    auto community = s_.db.transact([&](pqxx::work& tx) {
      auto c = repo::lock_community(tx, id);
      if (!c) throw not_found("Communauté introuvable.");
      CommunityDescribed event{CommunityDescribed::Type::updated, c->id,
                               patch.name.value_or(c->name),
                               merged_policy(*c, patch.policy.value_or(Json::object()))};
      c->name = event.name;
      c->policy_json = policy_to_json(event.policy).dump();
      repo::update_community(tx, *c);
      repo::audit(tx, who.member_id, "", "community.updated", event.data().dump());
      s_.outbox.add(tx, kMembersStream, event.type_name(), c->id, event.data());
      return *c;
    });
    return json_response(200, community_json(community));
  }

  // Staff of the site, admins, and community admins of its community (staff keep their own
  // staff rights while acting for a member; the admins' powers are not lent).
  Response patch_site(const Request& r) {
    const Identity who = s_.auth.require(r);
    const std::string& id = r.param("id");
    if (!is_uuid(id)) throw not_found("Site introuvable.");
    const bool staff = who.is_staff_of(id);
    const SitePatch patch = parse_site_patch(r.body);
    auto site = s_.db.transact([&](pqxx::work& tx) {
      auto s = repo::lock_site(tx, id);
      if (!s) throw not_found("Site introuvable.");
      const bool admin = who.acting_staff_id.empty() && who.administers(s->community_id);
      if (!staff && !admin) throw forbidden("Action réservée au personnel de ce site.");
      apply_site_patch(*s, patch);
      repo::update_site(tx, *s);
      const SiteDescribed event = site_event(*s, SiteDescribed::Type::updated);
      repo::audit(tx, who.actor_id(), "", "site.updated", event.data().dump());
      s_.outbox.add(tx, kMembersStream, event.type_name(), s->community_id, event.data());
      return *s;
    });
    Json shown = site_event(site, SiteDescribed::Type::updated).data();
    show_opening_hours(shown, s_.clock.now_s());
    return json_response(200, shown);
  }

 private:
  Service& s_;
};

}  // namespace

SiteDescribed site_event(const repo::SiteRow& s, SiteDescribed::Type type) {
  return {type,           s.id,           s.community_id, s.name,         s.kind,
          s.location.lat, s.location.lon, s.address,      s.opening_hours};
}

CommunityPatch parse_community_patch(std::string_view body) {
  const Json j = parse_json_object(body);
  BodyReader r(j, {"name", "policy"}, {"id"});
  refuse_null(j, r, {"name", "policy"});
  CommunityPatch patch;
  patch.name = read_name(r);
  if (const Json* policy = r.object("policy")) patch.policy = *policy;
  r.finish();
  return patch;
}

SitePatch parse_site_patch(std::string_view body) {
  const Json j = parse_json_object(body);
  BodyReader r(j, {"name", "kind", "location", "address", "opening_hours"}, {"id", "community_id"});
  refuse_null(j, r, {"name", "kind", "location", "address"});
  SitePatch patch;
  patch.name = read_name(r);
  patch.kind = r.text("kind", 32);
  if (patch.kind &&
      std::find(kSiteKinds.begin(), kSiteKinds.end(), *patch.kind) == kSiteKinds.end())
    r.add_error("kind", "doit être tiers_lieu, objetotheque, ressourcerie ou conciergerie");
  if (auto location = r.location("location"))
    patch.location = Position{location->lat, location->lon};
  if (auto address = r.text("address", kAddressMax)) {
    patch.address = trimmed(*address);
    if (patch.address->empty()) r.add_error("address", "ne doit pas être vide");
  }
  if (j.contains("opening_hours")) {
    FieldErrors hours_errors;
    patch.opening_hours = read_opening_hours(j["opening_hours"], hours_errors);
    for (auto& e : hours_errors) r.add_error(std::move(e.field), std::move(e.message));
  }
  r.finish();
  return patch;
}

void register_directory_admin(Service& service) {
  auto admin = std::make_shared<DirectoryAdmin>(service);
  service.http.route("PATCH", "/v1/communities/{id}",
                     [admin](const Request& r) { return admin->patch_community(r); });
  service.http.route("PATCH", "/v1/sites/{id}",
                     [admin](const Request& r) { return admin->patch_site(r); });
}

}  // namespace maillon::members
