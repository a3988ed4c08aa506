// The members stream's event types (typed_events.hpp's pattern): what the members service says
// of communities, sites, members and moderation, read by the directory (directory.hpp) and by
// the services' members consumers. Schemas: schemas/events/<type>.schema.json.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exchange/policy.hpp"
#include "services/common/typed_events.hpp"

namespace maillon {

inline constexpr const char* kMembersStream = "members";

// community.created / community.updated: the community as it now is, its policy whole.
struct CommunityDescribed {
  enum class Type { created, updated };
  Type type = Type::created;
  std::string community_id;
  std::string name;
  CommunityPolicy policy;

  static Read<CommunityDescribed> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

// site.created / site.updated: the site as it now is.
struct SiteDescribed {
  enum class Type { created, updated };
  Type type = Type::created;
  std::string id;
  std::string community_id;
  std::string name;
  std::string kind;  // tiers_lieu, objetotheque, ressourcerie or conciergerie
  double lat = 0;
  double lon = 0;
  std::string address;
  std::optional<std::string> opening_hours;

  static Read<SiteDescribed> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

enum class MemberStatus { active, pending, suspended };
// The status as the members schema stores it ("active", ...); nullopt for any other text.
std::optional<MemberStatus> member_status_named(std::string_view name);

// member.registered / member.updated: who the member is (roles and standing included).
// Administrators have no community.
struct MemberIdentity {
  enum class Type { registered, updated };
  Type type = Type::registered;
  std::string member_id;
  std::optional<std::string> community_id;
  std::optional<std::string> home_site_id;
  std::optional<std::string> display_name;
  std::vector<std::string> staff_site_ids;
  std::optional<MemberStatus> status;
  std::optional<std::string> registered_by;  // staff who registered the member at the desk
  // member.updated when an administrator of the platform made the member an administrator of
  // their community (true) or ended it (false); absent: unchanged (notify keeps who the admins
  // are, to tell them what concerns the whole community).
  std::optional<bool> community_admin;

  static Read<MemberIdentity> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

// member.approved / member.suspended (with its reason) / member.reinstated /
// member.password_changed (every session ended: what was given out with them ends too).
struct MemberStanding {
  enum class Type { approved, suspended, reinstated, password_changed };
  Type type = Type::approved;
  std::string member_id;
  std::string community_id;
  std::optional<std::string> reason;  // present exactly for suspended

  static Read<MemberStanding> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const;
};

// member.erased: personal data gone; the ledger keeps the history under the pseudonym.
struct MemberErased {
  std::string member_id;
  std::optional<std::string> community_id;
  std::string pseudonym;

  static Read<MemberErased> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const { return "member.erased"; }
};

// member.contact: how to reach the member by e-mail, sent whenever the address, its verification
// or the display name changes (registration, verification, e-mail change, erasure, desk
// registration). notify keeps its recipients from it and mails only verified addresses.
struct MemberContact {
  std::string member_id;
  std::optional<std::string> community_id;  // the envelope's; not in the data
  std::optional<std::string> email;         // none: registered at the desk, or erased
  bool email_verified = false;
  std::string display_name;

  static Read<MemberContact> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const { return "member.contact"; }
};

// listing.hidden: staff closed a report with "hide"; the listing service of that side hides it.
struct ListingHidden {
  enum class Side { offer, request };
  Side listing = Side::offer;
  std::string listing_id;
  std::string community_id;
  std::string report_id;

  static Read<ListingHidden> read(const Event& e);
  nlohmann::json data() const;
  std::string type_name() const { return "listing.hidden"; }
};

}  // namespace maillon
