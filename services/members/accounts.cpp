// Use cases of accounts that recover (accounts.hpp). Each mailed link is a token of 59
// characters: a 16-character selector that finds its row and a 43-character verifier (256 random
// bits) of which only a hash is kept, compared in constant time. Links expire by the service's
// clock, so that tests move time instead of waiting an hour.
#include "services/members/accounts.hpp"

#include <sodium.h>

#include <cctype>

#include "services/common/auth_headers.hpp"
#include "services/common/config.hpp"
#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/mail.hpp"
#include "services/common/service.hpp"
#include "services/members/accounts_mail.hpp"
#include "services/members/accounts_repository.hpp"
#include "services/members/refusal.hpp"

namespace maillon::members {
namespace {

namespace arepo = accounts_repo;

constexpr std::string_view kMailSchema = "members";
constexpr std::size_t kSelectorHexLength = 16;
constexpr std::size_t kVerifierLength = 43;  // new_token(): 256 bits in base64url
constexpr std::size_t kTokenLength = kSelectorHexLength + kVerifierLength;
constexpr int64_t kVerifySeconds = 7 * 24 * 3600;
constexpr int64_t kResetSeconds = 3600;  // the contract's hour
constexpr int64_t kEmailChangeSeconds = 24 * 3600;
// Reset mails an hour: per client address (someone probing many addresses) and per address
// (someone flooding one inbox). Beyond, the answer stays 202 and no mail goes.
constexpr int kResetsPerHourByClient = 20;
constexpr int kResetsPerHourByAddress = 3;
constexpr int kHourSeconds = 3600;
constexpr std::size_t kUserAgentMax = 200;

[[noreturn]] void refuse_account(MembersCode code) {
  throw Refusal{code, 0};
}

// MAILLON_PUBLIC_URL: where the web pages of the links live (read once).
const std::string& public_url() {
  static const std::string url = [] {
    std::string u = Config::url("MAILLON_PUBLIC_URL", "http://127.0.0.1:8080", {"http", "https"});
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }();
  return url;
}

std::string mailed_link(std::string_view page, const std::string& token) {
  return public_url() + std::string(page) + "?token=" + token;
}

struct IssuedToken {
  std::string token;     // for the mail only: never stored
  std::string selector;  // names the mail (its dedup key)
};

IssuedToken issue_token(pqxx::work& tx, arepo::TokenPurpose purpose, const repo::MemberRow& m,
                        const std::string& email, int64_t now_s, int64_t lifetime_s) {
  unsigned char random[kSelectorHexLength / 2];
  randombytes_buf(random, sizeof random);
  const std::string selector = to_hex(random, sizeof random);
  const std::string verifier = new_token();
  arepo::insert_token(tx, {.selector = selector,
                           .verifier_hash = token_hash(verifier),
                           .purpose = purpose,
                           .member_id = m.id,
                           .email = email,
                           .created_at_s = now_s,
                           .expires_at_s = now_s + lifetime_s});
  return {selector + verifier, selector};
}

// The token's row when it is live, of this purpose, and its verifier matches; else nullopt,
// whichever the reason (the answer never says which).
std::optional<arepo::TokenRow> usable_token(pqxx::work& tx, const std::string& token,
                                            arepo::TokenPurpose purpose, int64_t now_s) {
  if (token.size() != kTokenLength) return std::nullopt;
  auto row = arepo::lock_token(tx, token.substr(0, kSelectorHexLength));
  if (!row) return std::nullopt;
  const std::string presented = token_hash(token.substr(kSelectorHexLength));
  const bool matches =
      row->verifier_hash.size() == presented.size() &&
      sodium_memcmp(row->verifier_hash.data(), presented.data(), presented.size()) == 0;
  if (!matches || row->used || row->purpose != purpose || now_s >= row->expires_at_s)
    return std::nullopt;
  return row;
}

void queue_mail(pqxx::work& tx, mail::OutgoingMail m, const std::string& dedup_key) {
  m.dedup_key = dedup_key;
  mail::enqueue(tx, kMailSchema, m);
}

accounts_mail::Addressee addressee(const repo::MemberRow& m, const std::string& email) {
  return {email, m.display_name};
}

}  // namespace

// --- hooks of the core use cases ----------------------------------------------------------------

void announce_contact(Service& s, pqxx::work& tx, const repo::MemberRow& m) {
  const MemberContact contact{m.id,
                              m.community_id.empty() ? std::nullopt : std::optional(m.community_id),
                              m.email.empty() ? std::nullopt : std::optional(m.email),
                              !m.email.empty() && m.email_verified, m.display_name};
  s.outbox.add(tx, kMembersStream, contact.type_name(), m.community_id, contact.data());
}

namespace {

// The services that gave something out with the member's sessions take it back (the exchange
// service's calendar feed). A member of no community (an administrator) gave out none.
void announce_password_changed(Service& s, pqxx::work& tx, const repo::MemberRow& m) {
  if (m.community_id.empty()) return;
  const MemberStanding changed{MemberStanding::Type::password_changed, m.id, m.community_id,
                               std::nullopt};
  s.outbox.add(tx, kMembersStream, changed.type_name(), m.community_id, changed.data());
}

}  // namespace

void queue_verification(Service& s, pqxx::work& tx, const repo::MemberRow& m) {
  if (m.email.empty()) return;
  const IssuedToken issued =
      issue_token(tx, arepo::TokenPurpose::verify, m, m.email, s.clock.now_s(), kVerifySeconds);
  queue_mail(
      tx,
      accounts_mail::verification(addressee(m, m.email), mailed_link("/verifier", issued.token)),
      "account.verify:" + issued.selector);
}

void forget_account_tokens(pqxx::work& tx, const std::string& member_id) {
  arepo::forget_tokens(tx, member_id);
}

std::string user_agent_label(std::string_view user_agent) {
  std::string out;
  for (char c : user_agent.substr(0, kUserAgentMax)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

// --- the use cases ------------------------------------------------------------------------------

AccountsUseCases::AccountsUseCases(Service& service)
    : s_(service),
      password_cost_(password_cost_setting()),
      attempts_(service.redis, service.config.stream_prefix) {}

void AccountsUseCases::end_sessions(const arepo::Ended& ended, const std::string& member_id) {
  std::vector<Authenticator::EndedSession> sessions;
  for (const auto& [hash, seconds_left] : ended) sessions.push_back({hash, seconds_left});
  s_.auth.end_sessions(sessions, member_id);
}

// The member's own password, asked again: wrong ones count as failed logins of the account and
// of the client address (the same counters as POST /v1/auth/login).
Outcome<Done> AccountsUseCases::check_password(const repo::MemberRow& m,
                                               const std::string& password,
                                               const std::string& client_address) {
  const std::string by_client = "login-address:" + address_bucket(client_address);
  const std::string by_account = "login-account:" + token_hash(repo::email_key(s_.db, m.email));
  auto client = attempts_.reserve(by_client, s_.config.login_failures_per_address,
                                  s_.config.login_window_seconds);
  if (!client.allowed) {
    return {MembersCode::too_many_login_failures_from_address, {}, client.retry_after_seconds};
  }
  auto account = attempts_.reserve(by_account, s_.config.login_failures_per_account,
                                   s_.config.login_window_seconds);
  if (!account.allowed) {
    attempts_.release(by_client);
    return {MembersCode::too_many_login_failures_for_account, {}, account.retry_after_seconds};
  }
  if (!password_matches(m.password_hash, password)) return {MembersCode::wrong_current_password};
  attempts_.release(by_client);
  attempts_.release(by_account);
  return {};
}

Outcome<Done> AccountsUseCases::verify_email(const std::string& token) {
  const int64_t now_s = s_.clock.now_s();
  return settle([&] {
    s_.db.transact([&](pqxx::work& tx) {
      auto t = usable_token(tx, token, arepo::TokenPurpose::verify, now_s);
      // The address may have changed since the mail: that link proves nothing any more.
      if (!t || !arepo::mark_verified(tx, t->member_id, t->email, now_s))
        refuse_account(MembersCode::token_invalid);
      arepo::spend_tokens(tx, t->member_id, arepo::TokenPurpose::verify, now_s);
      auto m = *repo::find_member(tx, t->member_id);
      repo::audit(tx, m.id, m.id, "email.verified", "{}");
      announce_contact(s_, tx, m);
    });
    return Done{};
  });
}

void AccountsUseCases::request_reset(const std::string& email, const std::string& client_address) {
  if (!attempts_
           .reserve("reset-client:" + address_bucket(client_address), kResetsPerHourByClient,
                    kHourSeconds)
           .allowed ||
      !attempts_
           .reserve("reset-address:" + token_hash(repo::email_key(s_.db, email)),
                    kResetsPerHourByAddress, kHourSeconds)
           .allowed) {
    return;
  }
  const int64_t now_s = s_.clock.now_s();
  s_.db.transact([&](pqxx::work& tx) {
    auto m = repo::find_member_by_email(tx, email);
    if (!m || m->email.empty()) return;
    mail_password_link(tx, *m, now_s);
  });
}

void AccountsUseCases::mail_password_link(pqxx::work& tx, const repo::MemberRow& m, int64_t now_s) {
  const IssuedToken issued =
      issue_token(tx, arepo::TokenPurpose::reset, m, m.email, now_s, kResetSeconds);
  queue_mail(tx,
             accounts_mail::password_reset(addressee(m, m.email),
                                           mailed_link("/reinitialiser", issued.token)),
             "account.reset:" + issued.selector);
}

Outcome<Done> AccountsUseCases::confirm_reset(const std::string& token,
                                              const std::string& password) {
  const int64_t now_s = s_.clock.now_s();
  // A dead link costs no password hash (the route's lane bounds the live ones).
  const bool live = s_.db.transact([&](pqxx::work& tx) {
    return usable_token(tx, token, arepo::TokenPurpose::reset, now_s).has_value();
  });
  if (!live) return {MembersCode::token_invalid};
  const std::string hash = hash_password(password, password_cost_);
  auto out = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto t = usable_token(tx, token, arepo::TokenPurpose::reset, now_s);
      auto m = t ? repo::find_member(tx, t->member_id) : std::nullopt;
      if (!m || lowercase_ascii(m->email) != lowercase_ascii(t->email))
        refuse_account(MembersCode::token_invalid);
      arepo::spend_tokens(tx, m->id, arepo::TokenPurpose::reset, now_s);
      arepo::set_password(tx, m->id, hash);
      repo::audit(tx, m->id, m->id, "password.reset", "{}");
      announce_password_changed(s_, tx, *m);
      // The link came to this address: it is the member's.
      if (!m->email_verified && arepo::mark_verified(tx, m->id, m->email, now_s))
        announce_contact(s_, tx, *repo::find_member(tx, m->id));
      return std::pair(m->id, repo::revoke_all_sessions(tx, m->id));
    });
  });
  if (!out.ok()) return {out.code};
  end_sessions(out.value.second, out.value.first);
  return {};
}

Outcome<Done> AccountsUseCases::change_password(const CallerSession& caller,
                                                const PasswordChangeInput& in,
                                                const ClientFacts& client) {
  if (!caller.who.acting_staff_id.empty()) return {MembersCode::own_session_only};
  auto m =
      s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, caller.who.member_id); });
  if (!m) return {MembersCode::session_invalid};
  if (auto checked = check_password(*m, in.current_password, client.address); !checked.ok())
    return checked;
  const std::string hash = hash_password(in.password, password_cost_);
  auto ended = s_.db.transact([&](pqxx::work& tx) {
    arepo::set_password(tx, m->id, hash);
    arepo::spend_tokens(tx, m->id, arepo::TokenPurpose::reset, s_.clock.now_s());
    repo::audit(tx, m->id, m->id, "password.changed", "{}");
    announce_password_changed(s_, tx, *m);
    return arepo::revoke_other_sessions(tx, m->id, caller.token_hash);
  });
  end_sessions(ended, m->id);
  return {};
}

Outcome<Done> AccountsUseCases::request_email_change(const CallerSession& caller,
                                                     const EmailChangeInput& in,
                                                     const ClientFacts& client) {
  const bool at_desk = !caller.who.acting_staff_id.empty();
  auto m =
      s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, caller.who.member_id); });
  if (!m) return {MembersCode::session_invalid};
  // Staff acting for a member registered at the desk give the address the member tells them
  // (api.md, POST /v1/members): the member has neither an address nor a password, and the link
  // mailed to the address proves it is theirs. An address once there is the member's to change.
  if (at_desk && !m->email.empty()) return {MembersCode::own_session_only};
  if (!at_desk) {
    if (auto checked = check_password(*m, in.password, client.address); !checked.ok())
      return checked;
  }
  if (lowercase_ascii(in.email) == lowercase_ascii(m->email)) return {};  // nothing to change
  const int64_t now_s = s_.clock.now_s();
  s_.db.transact([&](pqxx::work& tx) {
    // The newest request is the one that counts.
    arepo::spend_tokens(tx, m->id, arepo::TokenPurpose::email_change, now_s);
    const IssuedToken issued = issue_token(tx, arepo::TokenPurpose::email_change, *m, in.email,
                                           now_s, kEmailChangeSeconds);
    queue_mail(
        tx,
        accounts_mail::email_change(addressee(*m, in.email), mailed_link("/email", issued.token)),
        "account.email-change:" + issued.selector);
    if (!m->email.empty()) {
      queue_mail(tx, accounts_mail::email_change_notice(addressee(*m, m->email), in.email),
                 "account.email-change-notice:" + issued.selector);
    }
    repo::audit(tx, caller.who.actor_id(), m->id, "email.change_requested", "{}");
  });
  return {};
}

Outcome<std::string> AccountsUseCases::confirm_email_change(const std::string& token) {
  const int64_t now_s = s_.clock.now_s();
  try {
    return settle([&] {
      return s_.db.transact([&](pqxx::work& tx) {
        auto t = usable_token(tx, token, arepo::TokenPurpose::email_change, now_s);
        auto m = t ? repo::find_member(tx, t->member_id) : std::nullopt;
        if (!m) refuse_account(MembersCode::token_invalid);
        if (arepo::email_in_use(tx, t->email, m->id)) refuse_account(MembersCode::email_taken);
        arepo::spend_tokens(tx, m->id, arepo::TokenPurpose::email_change, now_s);
        arepo::spend_tokens(tx, m->id, arepo::TokenPurpose::verify, now_s);
        arepo::set_email(tx, m->id, t->email, now_s);
        repo::audit(tx, m->id, m->id, "email.changed", "{}");
        const repo::MemberRow changed = *repo::find_member(tx, m->id);
        announce_contact(s_, tx, changed);
        // A member registered at the desk has no password yet: the address now theirs gets the
        // link to choose one, as a reset would.
        if (changed.password_hash.empty()) mail_password_link(tx, changed, now_s);
        return t->email;
      });
    });
  } catch (const pqxx::unique_violation&) {
    return {MembersCode::email_taken};  // taken by someone else at this very moment
  }
}

Outcome<std::vector<SessionView>> AccountsUseCases::sessions(const CallerSession& caller) {
  if (!caller.who.acting_staff_id.empty()) return {MembersCode::own_session_only};
  seen(caller.token_hash);
  auto rows = s_.db.transact(
      [&](pqxx::work& tx) { return arepo::live_sessions(tx, caller.who.member_id); });
  std::vector<SessionView> out;
  for (auto& row : rows) {
    out.push_back({row.id, row.created_at, row.last_seen_at, row.user_agent,
                   row.token_hash == caller.token_hash});
  }
  return {MembersCode::ok, std::move(out), 0};
}

Outcome<Done> AccountsUseCases::revoke_session(const CallerSession& caller,
                                               const std::string& session_id) {
  if (!caller.who.acting_staff_id.empty()) return {MembersCode::own_session_only};
  if (!is_uuid(session_id)) return {MembersCode::session_not_found};
  auto ended = s_.db.transact([&](pqxx::work& tx) {
    auto revoked = arepo::revoke_session_by_id(tx, caller.who.member_id, session_id);
    if (!revoked.empty())
      repo::audit(tx, caller.who.member_id, caller.who.member_id, "session.revoked", "{}");
    return revoked;
  });
  // Someone else's session is as unknown as one that never was.
  if (ended.empty()) return {MembersCode::session_not_found};
  end_sessions(ended, "");
  return {};
}

void AccountsUseCases::seen(const std::string& token_hash) {
  s_.db.transact([&](pqxx::work& tx) { arepo::touch_session(tx, token_hash); });
}

}  // namespace maillon::members
