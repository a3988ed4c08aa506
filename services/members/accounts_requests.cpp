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
  return read_body(body, {"token"},
                   [](BodyReader& r) { return r.required_text("token", kAccountTokenMax); });
}

std::string parse_reset_request(std::string_view body) {
  return read_body(body, {"email"}, [](BodyReader& r) { return read_email(r); });
}

ResetConfirmInput parse_reset_confirm(std::string_view body) {
  return read_body(body, {"token", "password"}, [](BodyReader& r) {
    ResetConfirmInput in;
    in.token = r.required_text("token", kAccountTokenMax);
    in.password = read_new_password(r, "password");
    return in;
  });
}

PasswordChangeInput parse_password_change(std::string_view body) {
  return read_body(body, {"current_password", "password"}, [](BodyReader& r) {
    PasswordChangeInput in;
    in.current_password = r.required_text("current_password", kPasswordMaxLength);
    in.password = read_new_password(r, "password");
    return in;
  });
}

EmailChangeInput parse_email_change(std::string_view body, bool password_required) {
  return read_body(body, {"email", "password"}, [password_required](BodyReader& r) {
    EmailChangeInput in;
    in.email = read_email(r);
    in.password = password_required ? r.required_text("password", kPasswordMaxLength)
                                    : r.text("password", kPasswordMaxLength).value_or("");
    return in;
  });
}

}  // namespace maillon::members
