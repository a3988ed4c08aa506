// Who may moderate whom: plain rules over the caller's identity and what is known of the target,
// no I/O. Header-only so that the tests read the same rules the routes apply.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "services/common/auth.hpp"

namespace maillon::members {

// What the rules need to know of the member acted upon.
struct TargetFacts {
  std::string id;
  std::string community_id;
  std::string home_site_id;  // "" when none
  bool is_admin = false;
  bool is_staff = false;            // of any site
  bool is_community_admin = false;  // of any community
};

enum class Verdict {
  allowed,
  unseen,          // the target is not the caller's to know of: answer 404
  no_role,         // the caller lacks the role: 403
  self,            // nobody moderates themselves, in their own name or acting for someone
  protected_role,  // an admin, staff or a community admin: only a higher role may
};

// Powers come from the identity as the Authenticator fills it: while acting for a member
// (X-On-Behalf-Of) it holds the caller's own staff sites and no admin role, so staff keep their
// own staff powers and never gain anyone else's.

// Staff of the member's home site, an administrator of the member's community, or an admin.
inline bool oversees(const Identity& who, const TargetFacts& target) {
  if (who.is_admin || (!target.community_id.empty() && who.administers(target.community_id))) {
    return true;
  }
  return !target.home_site_id.empty() && who.is_staff_of(target.home_site_id);
}

// Members of the target's community know it exists (its profile is theirs to read); anyone else
// hears 404, so that an id tried from outside reveals nothing.
inline Verdict outsider_or_no_role(const Identity& who, const TargetFacts& target) {
  if (!target.community_id.empty() && who.community_id == target.community_id) {
    return Verdict::no_role;
  }
  return Verdict::unseen;
}

// The member the call is about is the caller: in their own name, or as the one they act for.
inline bool is_self(const Identity& who, const std::string& member_id) {
  return !member_id.empty() && (member_id == who.member_id || member_id == who.acting_staff_id);
}

// Approve a pending member.
inline Verdict may_approve(const Identity& who, const TargetFacts& target) {
  if (!oversees(who, target)) return outsider_or_no_role(who, target);
  if (is_self(who, target.id)) return Verdict::self;
  return Verdict::allowed;
}

// Suspend or reinstate. Staff hold power over plain members only: suspending another staff
// member (who could otherwise be silenced by a colleague) takes an administrator of the
// community; suspending a community administrator or an admin takes an admin, and an admin is
// never suspended through the API (a global lock-out is not one click away).
inline Verdict may_suspend(const Identity& who, const TargetFacts& target) {
  if (!oversees(who, target)) return outsider_or_no_role(who, target);
  if (is_self(who, target.id)) return Verdict::self;
  if (target.is_admin) return Verdict::protected_role;
  if (target.is_community_admin && !who.is_admin) return Verdict::protected_role;
  if (target.is_staff && !who.administers(target.community_id)) return Verdict::protected_role;
  return Verdict::allowed;
}

// Desk work (registering members, the site's reports) is for staff of the site only: a
// community administrator manages sites, staff, policy and links, and an admin the network,
// neither the desk.
inline bool serves_site(const Identity& who, const std::string& site_id) {
  return who.is_staff_of(site_id);
}

}  // namespace maillon::members
