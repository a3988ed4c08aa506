// Parsing and validation of the accounts operations' bodies (accounts.hpp).
#include "services/common/json_body.hpp"
#include "services/members/accounts.hpp"
#include "services/members/members.hpp"

namespace maillon::members {
namespace {

// Tokens are a fixed 59 characters (accounts.cpp); anything much longer is not one.
constexpr std::size_t kAccountTokenMax = 128;

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
