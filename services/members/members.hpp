// The members service: communities, sites, members, roles and sessions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "exchange/policy.hpp"
#include "services/common/directory.hpp"
#include "services/common/text.hpp"

namespace maillon {
class Service;
class BodyReader;
}  // namespace maillon

namespace maillon::members {

using Position = directory::Position;  // one home for a point on the map

struct RegisterInput {
  std::string email;
  std::string password;
  std::string display_name;
  std::string community_id;
  std::optional<std::string> home_site_id;
  std::optional<Position> location;
};

struct LoginInput {
  std::string email;
  std::string password;
};

struct CommunityInput {
  std::string name;
  CommunityPolicy policy;
};

struct SiteInput {
  std::string community_id;
  std::string name;
  std::string kind;
  Position location;
  std::string address;
  std::optional<std::string> opening_hours;
};

struct ProfilePatch {
  std::optional<std::string> display_name;
  std::optional<std::string> home_site_id;
  std::optional<Position> location;
};

// Request bodies → inputs. Each throws a 400 ApiError listing every bad field; no I/O, so the
// fuzz target feeds them raw bytes.
inline constexpr std::size_t kPasswordMinLength = 10;

inline constexpr std::size_t kPasswordMaxLength = 128;
RegisterInput parse_register(std::string_view body);
LoginInput parse_login(std::string_view body);
CommunityInput parse_community(std::string_view body);
SiteInput parse_site(std::string_view body);
std::string parse_staff(std::string_view body);
ProfilePatch parse_profile_patch(std::string_view body);
// DELETE /v1/me: {password}, asked again so that a session left open cannot erase the account.
std::string parse_password_confirmation(std::string_view body);
// DELETE /v1/me: the member's password, or, for a member registered at the desk who has none,
// `confirm: true` sent by the staff member acting for them (the member consents at the desk).
struct ErasureConfirmation {
  std::optional<std::string> password;
  bool confirmed_at_desk = false;
};
ErasureConfirmation parse_erasure_confirmation(std::string_view body);
bool plausible_email(std::string_view email);
// A name is one line: no line break nor tab (mails, lists and the desk's screens show it inline,
// and a name of several lines would pass for the text around it).
inline bool one_line(std::string_view text) {
  return text.find_first_of("\r\n\t") == std::string_view::npos;
}
inline constexpr const char* kOneLineMessage =
    "tient sur une ligne (ni retour à la ligne ni tabulation)";
// The fields every body that takes an address or sets a password reads the same way: "email"
// trimmed and plausible; a new password of kPasswordMinLength to kPasswordMaxLength.
std::string read_email(BodyReader& r);
std::string read_new_password(BodyReader& r, std::string_view field);

// Routes, the first-admin bootstrap and the reliability consumer.
void register_service(Service& service);

}  // namespace maillon::members
