// Use cases of the members core: registration, sessions, profile, export and erasure,
// communities, sites and staff. Each one transaction; refusals are codes (refusal.hpp).
#include "services/members/usecases.hpp"

#include <sodium.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "services/common/auth_headers.hpp"
#include "services/common/events_members.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/policy_json.hpp"
#include "services/common/service.hpp"
#include "services/members/accounts.hpp"
#include "services/members/accounts_repository.hpp"
#include "services/members/directory_admin.hpp"
#include "services/members/refusal.hpp"
#include "services/members/sites_hours.hpp"

namespace maillon::members {
namespace {

using Json = nlohmann::json;

constexpr int kSessionHours = 24 * 30;
// Failed logins are counted in windows of config.login_window_seconds (a minute unless set), per
// account and per address; anonymous sign-ups per hour and address.
constexpr int kRegistrationWindowSeconds = 3600;

MemberIdentity identity_event(const repo::MemberRow& m, MemberIdentity::Type type) {
  auto opt = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional(s); };
  return {type,
          m.id,
          opt(m.community_id),
          opt(m.home_site_id),
          m.display_name,
          m.staff_site_ids,
          member_status_named(m.status),
          std::nullopt,
          std::nullopt};
}

void publish(Service& s, pqxx::work& tx, const MemberIdentity& m) {
  s.outbox.add(tx, kMembersStream, m.type_name(), m.community_id.value_or(""), m.data());
}

[[noreturn]] void refuse(MembersCode code, int retry_after_seconds = 0) {
  throw Refusal{code, retry_after_seconds};
}

struct Argon2Limits {
  unsigned long long ops;
  std::size_t mem;
};

Argon2Limits limits_of(PasswordCost cost) {
  switch (cost) {
    case PasswordCost::moderate:
      return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    case PasswordCost::sensitive:
      return {crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE};
    case PasswordCost::test:
      return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    case PasswordCost::interactive:
      break;
  }
  // Argon2id, libsodium's interactive limits (t=2, m=64 MiB): above OWASP's minimum.
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

}  // namespace

PasswordCost password_cost_setting() {
  const std::string cost = Config::choice("MAILLON_PASSWORD_COST", "interactive",
                                          {"interactive", "moderate", "sensitive", "test"});
  return cost == "moderate"    ? PasswordCost::moderate
         : cost == "sensitive" ? PasswordCost::sensitive
         : cost == "test"      ? PasswordCost::test
                               : PasswordCost::interactive;
}

std::string hash_password(const std::string& password, PasswordCost cost) {
  char out[crypto_pwhash_STRBYTES];
  const auto [ops, mem] = limits_of(cost);
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool password_matches(const std::string& hash, const std::string& password) {
  return !hash.empty() &&
         crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& hash, PasswordCost cost) {
  // Never weakened to the test limits: a test stack's members keep what they have.
  if (cost == PasswordCost::test) return false;
  const auto [ops, mem] = limits_of(cost);
  return crypto_pwhash_str_needs_rehash(hash.c_str(), ops, mem) != 0;
}

double reliability(const repo::MemberRow& m) {
  // A no-show counts as much as an exchange abandoned after acceptance.
  return (m.exchanges_completed + 1.0) /
         (m.exchanges_completed + m.exchanges_abandoned + m.no_shows + 2.0);
}

// The API's form of a site is the events' one.
// Structured opening hours come as an object with `open_now` at this moment (sites_hours.hpp).
Json site_json(const repo::SiteRow& s) {
  Json j = site_event(s, SiteDescribed::Type::created).data();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  show_opening_hours(j, std::chrono::duration_cast<std::chrono::seconds>(now).count());
  return j;
}

MembersUseCases::MembersUseCases(Service& service)
    : s_(service),
      password_cost_(password_cost_setting()),
      attempts_(service.redis, service.config.stream_prefix) {
  if (password_cost_ == PasswordCost::test) {
    log::warn("MAILLON_PASSWORD_COST=test: password hashes are weak, for test stacks only");
  }
}

void MembersUseCases::ensure_admin(const std::string& display_name) {
  const auto& c = s_.config;
  if (c.admin_email.empty()) return;
  if (c.admin_password.size() < kPasswordMinLength) {
    throw std::invalid_argument("MAILLON_ADMIN_PASSWORD must have at least 10 characters");
  }
  RegisterInput in{c.admin_email, c.admin_password, display_name, "", std::nullopt, std::nullopt};
  auto hash = hash_password(c.admin_password, password_cost_);
  bool created = s_.db.transact([&](pqxx::work& tx) {
    const std::string id = uuid_from_name("admin:" + c.admin_email);
    if (!repo::insert_member(tx, id, in, hash, true)) return false;
    announce_contact(s_, tx, *repo::find_member(tx, id));  // notify may write to them too
    return true;
  });
  if (created) log::info("first administrator created");
}

// --- sessions and limits ------------------------------------------------------------------------

void MembersUseCases::forget_member(const std::string& member_id,
                                    const std::vector<std::string>& hashes) {
  std::vector<std::string> del = {"DEL", s_.auth.identity_key(member_id)};
  for (const auto& h : hashes) del.push_back(s_.auth.session_key(h));
  // The previous release's processes also keep copies in memory, dropped on this announcement.
  s_.redis.with([&](Redis& r) {
    r.pipeline({del, {"PUBLISH", s_.auth.key_prefix() + ":auth-changes", "member:" + member_id}});
  });
}

// The member's sessions stay but their cached identity (status, roles) is read anew.
void MembersUseCases::refresh_sessions(const std::string& member_id) {
  auto hashes =
      s_.db.transact([&](pqxx::work& tx) { return repo::live_session_hashes(tx, member_id); });
  forget_member(member_id, hashes);
}

// Anonymous sign-ups are counted per address; staff and admins registering someone with their
// bearer token are not. Any other token changes nothing (a dead one is not refused here).
Outcome<Done> MembersUseCases::count_registration(const ClientFacts& client) {
  if (client.bearer_token) {
    auto who = s_.auth.verify_token(*client.bearer_token);
    if (who && (who->is_admin || who->is_staff())) return {};
  }
  auto verdict = attempts_.reserve("register:" + address_bucket(client.address),
                                   s_.config.registrations_per_hour, kRegistrationWindowSeconds);
  if (!verdict.allowed)
    return {MembersCode::too_many_registrations, {}, verdict.retry_after_seconds};
  return {};
}

// Reserves a failed attempt for the account and the address before the password is checked,
// so that concurrent guesses cannot pass the limits together; a success gives both back.
Outcome<MembersUseCases::LoginAttempt> MembersUseCases::begin_login_attempt(
    const std::string& email, const std::string& address) {
  LoginAttempt attempt{"login-account:" + token_hash(repo::email_key(s_.db, email)),
                       "login-address:" + address_bucket(address)};
  auto by_address = attempts_.reserve(attempt.address_key, s_.config.login_failures_per_address,
                                      s_.config.login_window_seconds);
  if (!by_address.allowed) {
    return {MembersCode::too_many_login_failures_from_address, {}, by_address.retry_after_seconds};
  }
  auto by_account = attempts_.reserve(attempt.account_key, s_.config.login_failures_per_account,
                                      s_.config.login_window_seconds);
  if (!by_account.allowed) {
    attempts_.release(attempt.address_key);
    return {MembersCode::too_many_login_failures_for_account, {}, by_account.retry_after_seconds};
  }
  return {MembersCode::ok, attempt, 0};
}

void MembersUseCases::login_succeeded(const LoginAttempt& attempt) {
  attempts_.release(attempt.account_key);
  attempts_.release(attempt.address_key);
}

// DELETE /v1/me asks again for the member's own password, also when staff act for them: the
// member consents at the desk, and a session left open cannot erase the account. Wrong ones
// count as failed logins of that account.
Outcome<Done> MembersUseCases::confirm_password(const Identity& who, const std::string& password,
                                                const ClientFacts& client) {
  auto member =
      s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, who.member_id); });
  if (!member) return {MembersCode::session_invalid};
  auto attempt = begin_login_attempt(member->email, client.address);
  if (!attempt.ok()) return {attempt.code, {}, attempt.retry_after_seconds};
  if (!password_matches(member->password_hash, password)) return {MembersCode::wrong_password};
  login_succeeded(attempt.value);
  return {};
}

// --- registration and sessions ------------------------------------------------------------------

Outcome<NewSession> MembersUseCases::register_member(const RegisterInput& in,
                                                     const ClientFacts& client) {
  if (auto counted = count_registration(client); !counted.ok()) {
    return {counted.code, {}, counted.retry_after_seconds};
  }
  auto hash = hash_password(in.password, password_cost_);
  const std::string id = new_uuid(), token = new_token(), session = token_hash(token);
  auto out = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      if (!repo::find_community(tx, in.community_id)) refuse(MembersCode::unknown_community);
      if (in.home_site_id) {
        auto site = repo::find_site(tx, *in.home_site_id);
        if (!site || site->community_id != in.community_id) {
          refuse(MembersCode::unknown_site_in_community);
        }
      }
      if (!repo::insert_member(tx, id, in, hash, false)) refuse(MembersCode::email_taken);
      repo::insert_session(tx, session, id, kSessionHours);
      accounts_repo::describe_session(tx, session, client.user_agent);
      auto m = *repo::find_member(tx, id);
      publish(s_, tx, identity_event(m, MemberIdentity::Type::registered));
      // The account works at once; the link mailed with it proves the address.
      announce_contact(s_, tx, m);
      queue_verification(s_, tx, m);
      return NewSession{m, token};
    });
  });
  // The new session read once, so its first use finds it cached (until its expiry at most).
  if (out.ok()) s_.auth.warm_session(session);
  return out;
}

Outcome<NewSession> MembersUseCases::login(const LoginInput& in, const ClientFacts& client) {
  auto attempt = begin_login_attempt(in.email, client.address);
  if (!attempt.ok()) return {attempt.code, {}, attempt.retry_after_seconds};
  auto member =
      s_.db.transact([&](pqxx::work& tx) { return repo::find_member_by_email(tx, in.email); });
  // Same work whether or not the account exists, so timing does not reveal who has one.
  static const std::string decoy = hash_password("decoy-password-for-timing", password_cost_);
  bool ok = password_matches(member ? member->password_hash : decoy, in.password) && member;
  if (!ok) return {MembersCode::wrong_credentials};
  login_succeeded(attempt.value);
  // Made with other limits (an older release's, or before MAILLON_PASSWORD_COST was raised):
  // hashed again now, while the password is at hand.
  std::optional<std::string> rehashed;
  if (password_needs_rehash(member->password_hash, password_cost_)) {
    rehashed = hash_password(in.password, password_cost_);
  }
  const std::string token = new_token(), session = token_hash(token);
  auto out = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      // Share-locks the member: a suspension being written is either seen here or revokes the
      // session about to be opened.
      if (lifecycle_repo::status_for_login(tx, member->id).value_or("") == "suspended") {
        refuse(MembersCode::account_suspended);
      }
      if (rehashed) accounts_repo::set_password(tx, member->id, *rehashed);
      repo::insert_session(tx, session, member->id, kSessionHours);
      accounts_repo::describe_session(tx, session, client.user_agent);
      return NewSession{*member, token};
    });
  });
  if (out.ok()) s_.auth.warm_session(session);
  return out;
}

Outcome<Done> MembersUseCases::logout(const std::string& token) {
  const std::string hash = token_hash(token);
  long long ttl = s_.db.transact([&](pqxx::work& tx) { return repo::revoke_session(tx, hash); });
  s_.auth.end_sessions({{hash, ttl}});
  return {};
}

// --- the member's own account -------------------------------------------------------------------

Outcome<repo::MemberRow> MembersUseCases::me(const Identity& who) {
  auto m = s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, who.member_id); });
  if (!m) return {MembersCode::session_invalid};
  return {MembersCode::ok, *m, 0};
}

Outcome<repo::MemberRow> MembersUseCases::update_profile(const Identity& who,
                                                         const ProfilePatch& patch) {
  auto out = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto current = repo::find_member(tx, who.member_id);
      if (!current) refuse(MembersCode::session_invalid);
      if (patch.home_site_id) {
        auto site = repo::find_site(tx, *patch.home_site_id);
        if (!site || site->community_id != current->community_id) {
          refuse(MembersCode::unknown_site_in_own_community);
        }
      }
      repo::update_profile(tx, who.member_id, patch);
      repo::audit(tx, who.actor_id(), who.member_id, "profile.updated", "{}");
      auto updated = *repo::find_member(tx, who.member_id);
      publish(s_, tx, identity_event(updated, MemberIdentity::Type::updated));
      if (patch.display_name) announce_contact(s_, tx, updated);
      return updated;
    });
  });
  if (out.ok()) forget_member(out.value.id, {});
  return out;
}

Outcome<MemberExport> MembersUseCases::export_member(const Identity& who) {
  return settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto m = repo::find_member(tx, who.member_id);
      if (!m) refuse(MembersCode::session_invalid);
      MemberExport out{*m, repo::audit_json(tx, who.member_id), {}, ""};
      // Each service's member_export(member) under its name (null while it publishes none).
      for (const char* schema :
           {"offers", "requests", "exchange", "ledger", "depot", "notify", "media"}) {
        out.service_exports.emplace_back(schema,
                                         lifecycle_repo::service_export(tx, schema, who.member_id));
      }
      out.reports_json = lifecycle_repo::reports_filed_json(tx, who.member_id);
      out.exported_at_s = s_.clock.now_s();
      return out;
    });
  });
}

// A member with a password confirms with it; one registered at the desk, who has none, consents
// there, and the staff member acting for them sends `confirm: true` (recorded as the actor).
Outcome<Done> MembersUseCases::erase(const Identity& who, const ErasureConfirmation& confirmation,
                                     const ClientFacts& client) {
  auto member =
      s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, who.member_id); });
  if (!member) return {MembersCode::session_invalid};
  if (member->password_hash.empty()) {
    if (who.acting_staff_id.empty() || !confirmation.confirmed_at_desk)
      return {MembersCode::desk_consent_required};
  } else if (!confirmation.password) {
    return {MembersCode::password_required};
  } else if (auto confirmed = confirm_password(who, *confirmation.password, client);
             !confirmed.ok()) {
    return confirmed;
  }
  auto revoked = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto m = repo::find_member(tx, who.member_id);
      if (!m) refuse(MembersCode::session_invalid);
      // A lent object goes back first; the texts of the reports they filed go with them.
      if (lifecycle_repo::open_loans(tx, who.member_id) > 0) refuse(MembersCode::open_loan);
      lifecycle_repo::forget_report_texts(tx, who.member_id);
      repo::erase_member(tx, who.member_id);
      forget_account_tokens(tx, who.member_id);
      repo::MemberRow gone = *m;  // no address any more: notify forgets it
      gone.email.clear();
      gone.display_name = "Membre supprimé";
      announce_contact(s_, tx, gone);
      auto ended = repo::revoke_all_sessions(tx, who.member_id);
      repo::audit(tx, who.actor_id(), who.member_id, "member.erased", "{}");
      const MemberErased erased{
          m->id, m->community_id.empty() ? std::nullopt : std::optional(m->community_id),
          "membre-" + m->id.substr(0, 8)};
      s_.outbox.add(tx, kMembersStream, erased.type_name(), m->community_id, erased.data());
      return ended;
    });
  });
  if (!revoked.ok()) return {revoked.code};
  std::vector<Authenticator::EndedSession> ended;
  for (const auto& [hash, seconds_left] : revoked.value) ended.push_back({hash, seconds_left});
  s_.auth.end_sessions(ended, who.member_id);
  return {};
}

// --- communities, sites, staff ------------------------------------------------------------------

MembersCode MembersUseCases::may_create_community(const Identity& who) const {
  return who.is_admin ? MembersCode::ok : MembersCode::admins_only;
}

// An admin, or an administrator of some community (the operation then checks which one); never
// while acting for a member, whose rights are lent without their powers.
MembersCode MembersUseCases::may_manage_sites(const Identity& who) const {
  if (!who.acting_staff_id.empty() || (!who.is_admin && who.admin_community_ids.empty()))
    return MembersCode::admins_only;
  return MembersCode::ok;
}

Outcome<repo::CommunityRow> MembersUseCases::create_community(const Identity& who,
                                                              const CommunityInput& in) {
  if (auto code = may_create_community(who); code != MembersCode::ok) return {code};
  const std::string id = new_uuid();
  Json policy = policy_to_json(in.policy);
  s_.db.transact([&](pqxx::work& tx) {
    repo::insert_community(tx, id, in.name, policy.dump());
    const CommunityDescribed created{CommunityDescribed::Type::created, id, in.name, in.policy};
    s_.outbox.add(tx, kMembersStream, created.type_name(), id, created.data());
  });
  return {MembersCode::ok, {id, in.name, policy.dump()}, 0};
}

Outcome<repo::CommunityRow> MembersUseCases::community(const Identity& who, const std::string& id) {
  if (!is_uuid(id) || (!who.is_admin && who.community_id != id))
    return {MembersCode::community_not_found};
  auto c = s_.db.transact([&](pqxx::work& tx) { return repo::find_community(tx, id); });
  if (!c) return {MembersCode::community_not_found};
  return {MembersCode::ok, *c, 0};
}

Outcome<repo::SiteRow> MembersUseCases::create_site(const Identity& who, const SiteInput& in) {
  if (auto code = may_manage_sites(who); code != MembersCode::ok) return {code};
  if (!who.administers(in.community_id)) return {MembersCode::community_admins_only};
  const std::string id = new_uuid();
  auto created = settle([&] {
    s_.db.transact([&](pqxx::work& tx) {
      if (!repo::find_community(tx, in.community_id)) refuse(MembersCode::unknown_community);
      repo::insert_site(tx, id, in);
      auto site = *repo::find_site(tx, id);
      const SiteDescribed created = site_event(site, SiteDescribed::Type::created);
      s_.outbox.add(tx, kMembersStream, created.type_name(), in.community_id, created.data());
    });
    return Done{};
  });
  if (!created.ok()) return {created.code};
  auto site = s_.db.transact([&](pqxx::work& tx) { return *repo::find_site(tx, id); });
  return {MembersCode::ok, site, 0};
}

Outcome<PageOf<repo::SiteRow>> MembersUseCases::sites(
    const std::optional<std::string>& community_id, const Page& page) {
  auto rows = s_.db.transact([&](pqxx::work& tx) {
    return repo::list_sites(tx, community_id, page.cursor, page.limit + 1);
  });
  return {MembersCode::ok, {std::move(rows), page.limit}, 0};
}

Outcome<repo::SiteRow> MembersUseCases::site(const std::string& id) {
  if (!is_uuid(id)) return {MembersCode::site_not_found};
  auto site = s_.db.transact([&](pqxx::work& tx) { return repo::find_site(tx, id); });
  if (!site) return {MembersCode::site_not_found};
  return {MembersCode::ok, *site, 0};
}

Outcome<Done> MembersUseCases::add_staff(const Identity& who, const std::string& site_id,
                                         const std::string& member_id) {
  if (auto code = may_manage_sites(who); code != MembersCode::ok) return {code};
  if (!is_uuid(site_id)) return {MembersCode::site_not_found};
  auto hashes = settle([&] {
    return s_.db.transact([&](pqxx::work& tx) {
      auto site = repo::find_site(tx, site_id);
      if (!site) refuse(MembersCode::site_not_found);
      if (!who.administers(site->community_id)) refuse(MembersCode::community_admins_only);
      auto m = repo::find_member(tx, member_id);
      if (!m) refuse(MembersCode::unknown_member);
      if (m->community_id != site->community_id) refuse(MembersCode::member_not_in_site_community);
      if (repo::add_staff(tx, site_id, member_id, who.member_id)) {
        repo::audit(tx, who.member_id, member_id, "staff.added", Json{{"site_id", site_id}}.dump());
        auto updated = *repo::find_member(tx, member_id);
        publish(s_, tx, identity_event(updated, MemberIdentity::Type::updated));
      }
      return repo::live_session_hashes(tx, member_id);
    });
  });
  if (!hashes.ok()) return {hashes.code};
  forget_member(member_id, hashes.value);
  return {};
}

Outcome<MemberProfile> MembersUseCases::member(const Identity& who, const std::string& id) {
  if (!is_uuid(id)) return {MembersCode::member_not_found};
  auto m = s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, id); });
  if (!m || (!who.is_admin && m->community_id != who.community_id))
    return {MembersCode::member_not_found};
  bool staff_here = who.is_admin || (!m->home_site_id.empty() && who.is_staff_of(m->home_site_id));
  return {MembersCode::ok, {*m, who.member_id == m->id || staff_here}, 0};
}

}  // namespace maillon::members
