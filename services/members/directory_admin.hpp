// Changing a community or a site after its creation: PATCH /v1/communities/{id} and
// PATCH /v1/sites/{id}. Each change is announced whole on the members stream (community.updated,
// site.updated), which every service's directory (services/common/directory.hpp) applies.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "services/common/events_members.hpp"
#include "services/members/members.hpp"
#include "services/members/repository.hpp"

namespace maillon::members {

// Absent fields keep their values; `policy` holds only the fields to change (the merged policy is
// validated as POST /v1/communities validates one).
struct CommunityPatch {
  std::optional<std::string> name;
  std::optional<nlohmann::json> policy;
};

// opening_hours: absent keeps them, null clears them.
struct SitePatch {
  std::optional<std::string> name;
  std::optional<std::string> kind;
  std::optional<Position> location;
  std::optional<std::string> address;
  std::optional<std::optional<std::string>> opening_hours;
};

// Throw a 400 ApiError listing every bad field; no I/O.
CommunityPatch parse_community_patch(std::string_view body);
SitePatch parse_site_patch(std::string_view body);

// A site as its events describe it (and the API shows it).
SiteDescribed site_event(const repo::SiteRow& site, SiteDescribed::Type type);

void register_directory_admin(Service& service);

}  // namespace maillon::members
