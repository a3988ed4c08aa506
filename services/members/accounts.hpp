// Accounts that recover: e-mail verification, password reset and change, e-mail change, and the
// list of one's sessions. The links go out as mails queued in the transaction of their cause
// (services/common/mail.hpp); every token is single-use, random, stored hashed and compared in
// constant time; every revoked session ends at once in every service (Authenticator::end_sessions).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "services/members/attempts.hpp"
#include "services/members/repository.hpp"
#include "services/members/usecases.hpp"

namespace maillon {
class Service;
struct Request;
}  // namespace maillon

namespace maillon::members {

// --- used by the core use cases (usecases.cpp), in their transactions -------------------------

// member.contact for the member as `m` now is (e-mail, its verification, display name).
void announce_contact(Service& s, pqxx::work& tx, const repo::MemberRow& m);
// Registration: the verification link mailed to the new address (account.verify).
void queue_verification(Service& s, pqxx::work& tx, const repo::MemberRow& m);
// Erasure: the member's open links die with their address.
void forget_account_tokens(pqxx::work& tx, const std::string& member_id);

// Routes of this file's operations, and the members service's mail sender.
void register_accounts(Service& service);
// The request's session was used just now (GET /v1/me: the web app reads it on every start), for
// last_seen_at in GET /v1/me/sessions; at most one write a minute per session.
void note_session_seen(Service& service, const Request& request);

// --- request bodies (accounts_requests.cpp; each throws a 400 listing every bad field) --------

struct ResetConfirmInput {
  std::string token;
  std::string password;
};
struct PasswordChangeInput {
  std::string current_password;
  std::string password;
};
struct EmailChangeInput {
  std::string email;
  std::string password;
};
std::string parse_token_body(std::string_view body);     // {token}
std::string parse_reset_request(std::string_view body);  // {email}
ResetConfirmInput parse_reset_confirm(std::string_view body);
PasswordChangeInput parse_password_change(std::string_view body);
// `password_required`: false for staff at the desk giving an address to a member registered
// there without one (who has no password either); a password sent anyway is read and ignored.
EmailChangeInput parse_email_change(std::string_view body, bool password_required);

// --- the use cases ----------------------------------------------------------------------------

struct SessionView {
  std::string id;
  std::string created_at;
  std::string last_seen_at;
  std::optional<std::string> user_agent;
  bool current = false;
};

// The caller's session as the accounts operations need it: whose, and which one.
struct CallerSession {
  Identity who;
  std::string token_hash;
};

class AccountsUseCases {
 public:
  explicit AccountsUseCases(Service& service);

  Outcome<Done> verify_email(const std::string& token);
  // Always ends the same way (202) whatever the address: a mail only when it is a member's and
  // the limits per client address and per address allow one.
  void request_reset(const std::string& email, const std::string& client_address);
  Outcome<Done> confirm_reset(const std::string& token, const std::string& password);
  Outcome<Done> change_password(const CallerSession& caller, const PasswordChangeInput& in,
                                const ClientFacts& client);
  // 202 whether or not the new address is taken: that is said only to whoever follows the link.
  Outcome<Done> request_email_change(const CallerSession& caller, const EmailChangeInput& in,
                                     const ClientFacts& client);
  Outcome<std::string> confirm_email_change(const std::string& token);  // the new address
  Outcome<std::vector<SessionView>> sessions(const CallerSession& caller);
  Outcome<Done> revoke_session(const CallerSession& caller, const std::string& session_id);
  // The session was used just now (throttled in SQL to one write a minute).
  void seen(const std::string& token_hash);

 private:
  Service& s_;
  PasswordCost password_cost_;
  Attempts attempts_;
  Outcome<Done> check_password(const repo::MemberRow& m, const std::string& password,
                               const std::string& client_address);
  void end_sessions(const std::vector<std::pair<std::string, long long>>& ended,
                    const std::string& member_id);
  // Mails `m` (at their address) a link to choose a password, valid an hour.
  void mail_password_link(pqxx::work& tx, const repo::MemberRow& m, int64_t now_s);
};

}  // namespace maillon::members
