// Parsing and validation of the accounts operations' bodies (accounts.hpp).
#include <algorithm>
#include <cctype>

#include "services/common/json_body.hpp"
#include "services/members/accounts.hpp"
#include "services/members/members.hpp"

namespace maillon::members {
namespace {

constexpr std::size_t kAccountEmailMax = 254;
// Tokens are a fixed 59 characters (accounts.cpp); anything much longer is not one.
constexpr std::size_t kAccountTokenMax = 128;

std::string trim_spaces(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string read_new_password(BodyReader& r, std::string_view field) {
  std::string password = r.required_text(field, kPasswordMaxLength);
  if (r.has(field) && password.size() < kPasswordMinLength) {
    r.add_error(std::string(field),
                "au moins " + std::to_string(kPasswordMinLength) + " caractères");
  }
  return password;
}

std::string read_email(BodyReader& r) {
  std::string address = trim_spaces(r.required_text("email", kAccountEmailMax));
  if (!address.empty() && !plausible_email(address))
    r.add_error("email", "adresse e-mail invalide");
  return address;
}

}  // namespace

std::string parse_token_body(std::string_view body) {
  auto j = parse_json_object(body);
  BodyReader r(j, {"token"});
  std::string token = r.required_text("token", kAccountTokenMax);
  r.finish();
  return token;
}

std::string parse_reset_request(std::string_view body) {
  auto j = parse_json_object(body);
  BodyReader r(j, {"email"});
  std::string address = read_email(r);
  r.finish();
  return address;
}

ResetConfirmInput parse_reset_confirm(std::string_view body) {
  auto j = parse_json_object(body);
  BodyReader r(j, {"token", "password"});
  ResetConfirmInput in;
  in.token = r.required_text("token", kAccountTokenMax);
  in.password = read_new_password(r, "password");
  r.finish();
  return in;
}

PasswordChangeInput parse_password_change(std::string_view body) {
  auto j = parse_json_object(body);
  BodyReader r(j, {"current_password", "password"});
  PasswordChangeInput in;
  in.current_password = r.required_text("current_password", kPasswordMaxLength);
  in.password = read_new_password(r, "password");
  r.finish();
  return in;
}

EmailChangeInput parse_email_change(std::string_view body) {
  auto j = parse_json_object(body);
  BodyReader r(j, {"email", "password"});
  EmailChangeInput in;
  in.email = read_email(r);
  in.password = r.required_text("password", kPasswordMaxLength);
  r.finish();
  return in;
}

}  // namespace maillon::members
