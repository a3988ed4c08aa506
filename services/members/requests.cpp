// Parsing and validation of the members endpoints' bodies.
#include <algorithm>
#include <cctype>
#include <string_view>

#include "exchange/listing.hpp"
#include "services/common/json_body.hpp"
#include "services/common/policy_json.hpp"
#include "services/members/members.hpp"
#include "services/members/sites_hours.hpp"

namespace maillon::members {
namespace {

constexpr std::size_t kEmailMax = 254;
constexpr std::size_t kNameMax = 80;
constexpr std::size_t kSiteNameMax = 120;
constexpr std::size_t kAddressMax = 300;

std::optional<Position> read_position(BodyReader& r, std::string_view field) {
  auto p = r.location(field);
  if (!p) return std::nullopt;
  return Position{p->lat, p->lon};
}

std::string trimmed(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

void check_display_name(BodyReader& r, const std::string& name) {
  if (name.empty() && r.errors().empty()) r.add_error("display_name", "ne doit pas être vide");
  if (!one_line(name)) r.add_error("display_name", kOneLineMessage);
}

}  // namespace

bool plausible_email(std::string_view e) {
  auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at != e.rfind('@')) return false;
  auto domain = e.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return false;
  }
  return std::none_of(e.begin(), e.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) ||
           std::iscntrl(static_cast<unsigned char>(c));
  });
}

std::string read_email(BodyReader& r) {
  std::string address = trimmed(r.required_text("email", kEmailMax));
  if (!address.empty() && !plausible_email(address))
    r.add_error("email", "adresse e-mail invalide");
  return address;
}

std::string read_new_password(BodyReader& r, std::string_view field) {
  const std::size_t errors_before = r.errors().size();
  std::string password = r.required_text(field, kPasswordMaxLength);
  // In characters, as the message says ("ééééé" is 5, not 10); not a second error on a password
  // already refused (too long, not a text).
  if (r.errors().size() == errors_before &&
      utf8_code_points(password).value_or(password.size()) < kPasswordMinLength) {
    r.add_error(std::string(field),
                "au moins " + std::to_string(kPasswordMinLength) + " caractères");
  }
  return password;
}

RegisterInput parse_register(std::string_view body) {
  return read_body(
      body, {"email", "password", "display_name", "community_id", "home_site_id", "location"},
      {"id", "roles", "is_admin", "member_id"}, [](BodyReader& r) {
        RegisterInput in;
        in.email = read_email(r);
        in.password = read_new_password(r, "password");
        if (!in.password.empty() && lowercase_ascii(in.password) == lowercase_ascii(in.email))
          r.add_error("password", "ne doit pas être votre adresse e-mail");
        in.display_name = trimmed(r.required_text("display_name", kNameMax));
        if (r.has("display_name")) check_display_name(r, in.display_name);
        in.community_id = r.required_uuid("community_id");
        in.home_site_id = r.uuid("home_site_id");
        in.location = read_position(r, "location");
        return in;
      });
}

LoginInput parse_login(std::string_view body) {
  return read_body(body, {"email", "password"}, [](BodyReader& r) {
    LoginInput in;
    in.email = trimmed(r.required_text("email", kEmailMax));
    in.password = r.required_text("password", kPasswordMaxLength);
    return in;
  });
}

CommunityInput parse_community(std::string_view body) {
  return read_body(body, {"name", "policy"}, {"id"}, [](BodyReader& r) {
    CommunityInput in;
    in.name = trimmed(r.required_text("name", kSiteNameMax));
    if (r.has("name") && in.name.size() < 2) r.add_error("name", "au moins 2 caractères");
    if (const auto* policy = r.object("policy")) {
      FieldErrors errors;
      in.policy = policy_from_json(*policy, errors);
      for (auto& e : errors) r.add_error(e.field, e.message);
    }
    return in;
  });
}

SiteInput parse_site(std::string_view body) {
  auto j = parse_json_object(body);
  BodyReader r(j, {"community_id", "name", "kind", "location", "address", "opening_hours"}, {"id"});
  SiteInput in;
  in.community_id = r.required_uuid("community_id");
  in.name = trimmed(r.required_text("name", kSiteNameMax));
  if (r.has("name") && in.name.size() < 2) r.add_error("name", "au moins 2 caractères");
  in.kind = r.required_text("kind", 32);
  static const std::array<std::string_view, 4> kinds = {"tiers_lieu", "objetotheque",
                                                        "ressourcerie", "conciergerie"};
  if (r.has("kind") && std::find(kinds.begin(), kinds.end(), in.kind) == kinds.end()) {
    r.add_error("kind", "doit être tiers_lieu, objetotheque, ressourcerie ou conciergerie");
  }
  auto loc = read_position(r, "location");
  if (!r.has("location")) r.add_error("location", "champ obligatoire");
  if (loc) in.location = *loc;
  in.address = trimmed(r.required_text("address", kAddressMax));
  if (j.contains("opening_hours")) {
    FieldErrors hours_errors;
    in.opening_hours = read_opening_hours(j["opening_hours"], hours_errors);
    for (auto& e : hours_errors) r.add_error(std::move(e.field), std::move(e.message));
  }
  r.finish();
  return in;
}

std::string parse_staff(std::string_view body) {
  return read_body(body, {"member_id"}, [](BodyReader& r) { return r.required_uuid("member_id"); });
}

ProfilePatch parse_profile_patch(std::string_view body) {
  return read_body(body, {"display_name", "home_site_id", "location"},
                   {"id", "email", "community_id", "roles"}, [](BodyReader& r) {
                     ProfilePatch p;
                     if (auto name = r.text("display_name", kNameMax)) {
                       p.display_name = trimmed(*name);
                       check_display_name(r, *p.display_name);
                     }
                     p.home_site_id = r.uuid("home_site_id");
                     p.location = read_position(r, "location");
                     return p;
                   });
}

ErasureConfirmation parse_erasure_confirmation(std::string_view body) {
  return read_body(body, {"password", "confirm"}, [](BodyReader& r) {
    ErasureConfirmation c;
    c.password = r.text("password", kPasswordMaxLength);
    c.confirmed_at_desk = r.boolean("confirm").value_or(false);
    if (!c.password && !c.confirmed_at_desk && r.errors().empty())
      r.add_error("password", "est obligatoire");
    return c;
  });
}

std::string parse_password_confirmation(std::string_view body) {
  return read_body(body, {"password"},
                   [](BodyReader& r) { return r.required_text("password", kPasswordMaxLength); });
}

}  // namespace maillon::members
