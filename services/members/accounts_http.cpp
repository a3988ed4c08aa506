// Routes of accounts that recover (accounts.hpp): each handler reads its input, calls one use
// case and writes the answer; refusals become problems through messages.cpp.
#include "services/common/auth_headers.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/mail.hpp"
#include "services/common/service.hpp"
#include "services/members/accounts.hpp"
#include "services/members/accounts_repository.hpp"
#include "services/members/messages.hpp"

namespace maillon::members {
namespace {

Json session_json(const SessionView& s) {
  return {{"id", s.id},
          {"created_at", s.created_at},
          {"last_seen_at", s.last_seen_at},
          {"user_agent", s.user_agent ? Json(*s.user_agent) : Json(nullptr)},
          {"current", s.current}};
}

class AccountsApi : ServiceApi<AccountsUseCases> {
 public:
  explicit AccountsApi(Service& s) : ServiceApi(s, s) {}

  void routes() {
    const RouteBinder bind(s_.http, this);
    bind("POST", "/v1/auth/verify", &AccountsApi::verify);
    bind("POST", "/v1/auth/password-reset", &AccountsApi::request_reset);
    // The routes that hash a password run on the password lane (bounded threads and queue).
    bind("POST", "/v1/auth/password-reset/confirm", &AccountsApi::confirm_reset, Lane::password);
    bind("POST", "/v1/auth/email/confirm", &AccountsApi::confirm_email);
    bind("POST", "/v1/me/password", &AccountsApi::change_password, Lane::password);
    bind("POST", "/v1/me/email", &AccountsApi::change_email, Lane::password);
    bind("GET", "/v1/me/sessions", &AccountsApi::list_sessions);
    bind("DELETE", "/v1/me/sessions/{id}", &AccountsApi::revoke_session);
  }

 private:
  CallerSession caller(const Request& r) {
    Identity who = s_.auth.require(r);
    return {std::move(who), token_hash(Authenticator::presented_token(r)->token)};
  }

  static ClientFacts client(const Request& r) { return {r.client, std::nullopt, ""}; }

  Response verify(const Request& r) {
    settled(uc_.verify_email(parse_token_body(r.body)));
    return json_response(200, {{"email_verified", true}});
  }

  // 202 whatever happened: whether the address is a member's is never said.
  Response request_reset(const Request& r) {
    uc_.request_reset(parse_reset_request(r.body), r.client);
    return json_response(202, {{"status", "accepted"}});
  }

  // Every session of the member ends, this browser's too: its cookies go.
  Response confirm_reset(const Request& r) {
    auto in = parse_reset_confirm(r.body);
    settled(uc_.confirm_reset(in.token, in.password));
    Response out = json_response(200, {{"status", "password-changed"}});
    for (auto& cookie : cleared_session_cookies()) out.headers.emplace_back("Set-Cookie", cookie);
    return out;
  }

  Response confirm_email(const Request& r) {
    auto email = settled(uc_.confirm_email_change(parse_token_body(r.body)));
    return json_response(200, {{"email", email}, {"email_verified", true}});
  }

  Response change_password(const Request& r) {
    auto who = caller(r);
    auto in = parse_password_change(r.body);
    settled(uc_.change_password(who, in, client(r)));
    return Response::no_content();
  }

  Response change_email(const Request& r) {
    auto who = caller(r);
    auto in = parse_email_change(r.body, who.who.acting_staff_id.empty());
    settled(uc_.request_email_change(who, in, client(r)));
    return json_response(202, {{"status", "confirmation-sent"}});
  }

  Response list_sessions(const Request& r) {
    auto sessions = settled(uc_.sessions(caller(r)));
    Json items = Json::array();
    for (const auto& s : sessions) items.push_back(session_json(s));
    return json_response(200, {{"items", items}});
  }

  Response revoke_session(const Request& r) {
    auto who = caller(r);
    settled(uc_.revoke_session(who, r.param("id")));
    return Response::no_content();
  }
};

}  // namespace

void note_session_seen(Service& service, const Request& request) {
  auto presented = Authenticator::presented_token(request);
  if (!presented) return;
  const std::string hash = token_hash(presented->token);
  service.db.transact([&](pqxx::work& tx) { accounts_repo::touch_session(tx, hash); });
}

void register_accounts(Service& service) {
  auto api = std::make_shared<AccountsApi>(service);
  api->routes();
  // The account mails are queued in members.mail_queue; this process sends them.
  mail::start_sender(service, "members");
  service.on_start([api] {});  // the routes hold `api`; the service keeps it alive
}

}  // namespace maillon::members
