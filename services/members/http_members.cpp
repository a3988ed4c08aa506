// Routes of the members service: each handler reads its input, calls one use case, answers.
#include <sodium.h>

#include "services/common/auth_headers.hpp"
#include "services/common/errors.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/pagination.hpp"
#include "services/common/policy_json.hpp"
#include "services/common/service.hpp"
#include "services/members/attempts.hpp"
#include "services/members/lifecycle.hpp"
#include "services/members/members.hpp"
#include "services/members/repository.hpp"

namespace maillon::members {
namespace {

constexpr int kSessionHours = 24 * 30;
// Failed logins are counted in windows of a minute (config: per account, per address) and
// anonymous sign-ups per hour and address.
constexpr int kLoginWindowSeconds = 60;
constexpr int kRegistrationWindowSeconds = 3600;
constexpr const char* kStream = "members";

std::string hash_password(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  // Argon2id, libsodium's interactive limits (t=2, m=64 MiB): above OWASP's minimum.
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool password_matches(const std::string& hash, const std::string& password) {
  return !hash.empty() &&
         crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Json position_json(const std::optional<Position>& p) {
  if (!p) return nullptr;
  return Json{{"lat", p->lat}, {"lon", p->lon}};
}

Json nullable(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json roles_json(const repo::MemberRow& m) {
  Json roles = Json::array({"member"});
  if (!m.staff_site_ids.empty()) roles.push_back("staff");
  if (m.is_admin) roles.push_back("admin");
  return roles;
}

Json me_json(const repo::MemberRow& m) {
  return {{"id", m.id},
          {"email", m.email},
          {"display_name", m.display_name},
          {"community_id", nullable(m.community_id)},
          {"home_site_id", nullable(m.home_site_id)},
          {"location", position_json(m.location)},
          {"roles", roles_json(m)},
          {"staff_site_ids", m.staff_site_ids},
          {"status", m.status},
          {"member_number", m.member_number > 0 ? Json(m.member_number) : Json(nullptr)},
          {"created_at", m.created_at}};
}

double reliability(const repo::MemberRow& m) {
  // Laplace prior: a newcomer starts at 0.5 and each exchange moves the figure a little.
  return (m.exchanges_completed + 1.0) / (m.exchanges_completed + m.exchanges_abandoned + 2.0);
}

Json site_json(const repo::SiteRow& s) {
  return {{"id", s.id},
          {"community_id", s.community_id},
          {"name", s.name},
          {"kind", s.kind},
          {"location", {{"lat", s.location.lat}, {"lon", s.location.lon}}},
          {"address", s.address},
          {"opening_hours", s.opening_hours ? Json(*s.opening_hours) : Json(nullptr)}};
}

Json identity_event(const repo::MemberRow& m) {
  return {{"member_id", m.id},
          {"community_id", nullable(m.community_id)},
          {"home_site_id", nullable(m.home_site_id)},
          {"display_name", m.display_name},
          {"staff_site_ids", m.staff_site_ids},
          {"status", m.status}};
}

class MembersApi {
 public:
  explicit MembersApi(Service& s) : s_(s), attempts_(s.redis, s.config.stream_prefix) {}

  void routes() {
    auto bind = [this](const char* method, const char* path,
                       Response (MembersApi::*fn)(const Request&), Lane lane = Lane::standard) {
      s_.http.route(
          method, path, [this, fn](const Request& r) { return (this->*fn)(r); }, lane);
    };
    // The routes that hash a password run on the password lane (bounded threads and queue).
    bind("POST", "/v1/auth/register", &MembersApi::register_member, Lane::password);
    bind("POST", "/v1/auth/login", &MembersApi::login, Lane::password);
    bind("POST", "/v1/auth/logout", &MembersApi::logout);
    bind("GET", "/v1/me", &MembersApi::me);
    bind("PATCH", "/v1/me", &MembersApi::patch_me);
    bind("GET", "/v1/me/export", &MembersApi::export_me);
    bind("DELETE", "/v1/me", &MembersApi::erase_me, Lane::password);
    bind("POST", "/v1/communities", &MembersApi::create_community);
    bind("GET", "/v1/communities/{id}", &MembersApi::get_community);
    bind("POST", "/v1/sites", &MembersApi::create_site);
    bind("GET", "/v1/sites", &MembersApi::list_sites);
    bind("GET", "/v1/sites/{id}", &MembersApi::get_site);
    bind("POST", "/v1/sites/{id}/staff", &MembersApi::add_staff);
    bind("GET", "/v1/members/{id}", &MembersApi::get_member);
  }

  void ensure_admin() {
    const auto& c = s_.config;
    if (c.admin_email.empty()) return;
    if (c.admin_password.size() < kPasswordMinLength) {
      throw std::invalid_argument("MAILLON_ADMIN_PASSWORD must have at least 10 characters");
    }
    RegisterInput in{c.admin_email, c.admin_password, "Administration Maillon", "",
                     std::nullopt,  std::nullopt};
    auto hash = hash_password(c.admin_password);
    bool created = s_.db.transact([&](pqxx::work& tx) {
      return repo::insert_member(tx, uuid_from_name("admin:" + c.admin_email), in, hash, true);
    });
    if (created) log::info("first administrator created");
  }

 private:
  Service& s_;
  // Failed logins per account and per address, sign-ups per address (Redis, shared).
  Attempts attempts_;

  Identity caller(const Request& r) { return s_.auth.require(r); }

  void require_admin(const Identity& who) {
    if (!who.is_admin) throw forbidden("Action réservée aux administrateurs.");
  }

  // An admin, or an administrator of some community (the route then checks which one); never
  // while acting for a member, whose rights are lent without their powers.
  void require_community_admin(const Identity& who) {
    if (!who.acting_staff_id.empty() || (!who.is_admin && who.admin_community_ids.empty()))
      throw forbidden("Action réservée aux administrateurs.");
  }
  void require_administers(const Identity& who, const std::string& community_id) {
    if (!who.administers(community_id))
      throw forbidden("Action réservée aux administrateurs de cette communauté.");
  }

  // The new session read once, so its first use finds it cached (until its expiry at most).
  void cache_session(const std::string& hash) { s_.auth.warm_session(hash); }

  // Roles changed: drop every cached view of this member so the next request reads them anew.
  void forget_member(const std::string& member_id, const std::vector<std::string>& hashes) {
    std::vector<std::string> del = {"DEL", s_.auth.identity_key(member_id)};
    for (const auto& h : hashes) del.push_back(s_.auth.session_key(h));
    s_.redis.with([&](Redis& r) { r.command(del); });
    s_.auth.announce_member_change(member_id);
  }

  // The token for API clients, and the same session as cookies for the browser: HttpOnly for
  // the session, readable for its CSRF value (auth_headers.hpp).
  Response session_response(int status, const repo::MemberRow& m, const std::string& token) {
    Response out = json_response(status, {{"member", me_json(m)}, {"token", token}});
    const int64_t max_age = int64_t{kSessionHours} * 3600;
    out.headers.emplace_back("Set-Cookie", session_set_cookie(token, max_age));
    out.headers.emplace_back("Set-Cookie", csrf_set_cookie(csrf_token_for(token), max_age));
    return out;
  }

  [[noreturn]] void refuse(const Attempts::Verdict& verdict, const std::string& detail) {
    throw too_many_requests(verdict.retry_after_seconds, detail);
  }

  // Anonymous sign-ups are counted per address; staff and admins registering someone with their
  // bearer token are not. Any other token changes nothing (a dead one is not refused here).
  void count_registration(const Request& r) {
    auto presented = Authenticator::presented_token(r);
    if (presented && !presented->from_cookie) {
      auto who = s_.auth.verify_token(presented->token);
      if (who && (who->is_admin || who->is_staff())) return;
    }
    auto verdict = attempts_.reserve("register:" + address_bucket(r.client),
                                     s_.config.registrations_per_hour, kRegistrationWindowSeconds);
    if (!verdict.allowed) {
      refuse(verdict, "Trop d'inscriptions depuis cette adresse : réessayez plus tard.");
    }
  }

  // Reserves a failed attempt for the account and the address before the password is checked,
  // so that concurrent guesses cannot pass the limits together; a success gives both back.
  struct LoginAttempt {
    std::string account_key;
    std::string address_key;
  };
  LoginAttempt begin_login_attempt(const std::string& email, const Request& r) {
    std::string lower = email;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    LoginAttempt attempt{"login-account:" + token_hash(lower),
                         "login-address:" + address_bucket(r.client)};
    auto by_address = attempts_.reserve(attempt.address_key, s_.config.login_failures_per_address,
                                        kLoginWindowSeconds);
    if (!by_address.allowed) {
      refuse(by_address, "Trop d'échecs de connexion depuis cette adresse : réessayez plus tard.");
    }
    auto by_account = attempts_.reserve(attempt.account_key, s_.config.login_failures_per_account,
                                        kLoginWindowSeconds);
    if (!by_account.allowed) {
      attempts_.release(attempt.address_key);
      refuse(by_account, "Trop d'échecs de connexion pour ce compte : réessayez dans une minute.");
    }
    return attempt;
  }
  void login_succeeded(const LoginAttempt& attempt) {
    attempts_.release(attempt.account_key);
    attempts_.release(attempt.address_key);
  }

  // DELETE /v1/me asks again for the member's own password, also when staff act for them: the
  // member consents at the desk, and a session left open cannot erase the account. Wrong ones
  // count as failed logins of that account.
  void confirm_password(const Identity& who, const Request& r) {
    auto password = parse_password_confirmation(r.body);
    auto member =
        s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, who.member_id); });
    if (!member) throw unauthorized();
    auto attempt = begin_login_attempt(member->email, r);
    if (!password_matches(member->password_hash, password)) {
      throw ApiError(403, "wrong-password", "Mot de passe incorrect",
                     "Le mot de passe ne correspond pas : le compte n'est pas supprimé.");
    }
    login_succeeded(attempt);
  }

  Response register_member(const Request& r) {
    auto in = parse_register(r.body);
    count_registration(r);
    auto hash = hash_password(in.password);
    const std::string id = new_uuid(), token = new_token(), token_hash = maillon::token_hash(token);
    auto member = s_.db.transact([&](pqxx::work& tx) {
      if (!repo::find_community(tx, in.community_id)) {
        throw invalid_input("Communauté inconnue.", {{"community_id", "communauté inconnue"}});
      }
      if (in.home_site_id) {
        auto site = repo::find_site(tx, *in.home_site_id);
        if (!site || site->community_id != in.community_id) {
          throw invalid_input("Site inconnu.",
                              {{"home_site_id", "site inconnu dans cette communauté"}});
        }
      }
      if (!repo::insert_member(tx, id, in, hash, false)) {
        throw conflict("email-taken", "Un compte existe déjà avec cette adresse e-mail.");
      }
      repo::insert_session(tx, token_hash, id, kSessionHours);
      auto m = *repo::find_member(tx, id);
      s_.outbox.add(tx, kStream, "member.registered", in.community_id, identity_event(m));
      return m;
    });
    cache_session(token_hash);
    return session_response(201, member, token);
  }

  Response login(const Request& r) {
    auto in = parse_login(r.body);
    auto attempt = begin_login_attempt(in.email, r);
    auto member =
        s_.db.transact([&](pqxx::work& tx) { return repo::find_member_by_email(tx, in.email); });
    // Same work whether or not the account exists, so timing does not reveal who has one.
    static const std::string decoy = hash_password("decoy-password-for-timing");
    bool ok = password_matches(member ? member->password_hash : decoy, in.password) && member;
    if (!ok) throw unauthorized("E-mail ou mot de passe incorrect.");
    login_succeeded(attempt);
    const std::string token = new_token(), hash = token_hash(token);
    s_.db.transact([&](pqxx::work& tx) {
      refuse_suspended_login(tx, member->id);
      repo::insert_session(tx, hash, member->id, kSessionHours);
    });
    cache_session(hash);
    return session_response(200, *member, token);
  }

  Response logout(const Request& r) {
    caller(r);
    const std::string hash = token_hash(Authenticator::presented_token(r)->token);
    long long ttl = s_.db.transact([&](pqxx::work& tx) { return repo::revoke_session(tx, hash); });
    s_.auth.end_sessions({{hash, ttl}});
    Response out = Response::no_content();
    for (auto& cookie : cleared_session_cookies()) out.headers.emplace_back("Set-Cookie", cookie);
    return out;
  }

  repo::MemberRow load_self(const Identity& who) {
    auto m = s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, who.member_id); });
    if (!m) throw unauthorized();
    return *m;
  }

  // Under X-On-Behalf-Of: the member's own fields and who acts, never a role of theirs (they
  // have none: acting is refused for staff and admins) nor one of the acting staff member's.
  Response me(const Request& r) {
    const Identity who = caller(r);
    Json body = me_json(load_self(who));
    if (!who.acting_staff_id.empty()) {
      body["roles"] = Json::array({"member"});
      body["staff_site_ids"] = Json::array();
      body.erase("admin_community_ids");
      body["acting_staff_id"] = who.acting_staff_id;
    }
    return json_response(200, body);
  }

  Response patch_me(const Request& r) {
    auto who = caller(r);
    auto patch = parse_profile_patch(r.body);
    auto m = s_.db.transact([&](pqxx::work& tx) {
      auto current = repo::find_member(tx, who.member_id);
      if (!current) throw unauthorized();
      if (patch.home_site_id) {
        auto site = repo::find_site(tx, *patch.home_site_id);
        if (!site || site->community_id != current->community_id) {
          throw invalid_input("Site inconnu.",
                              {{"home_site_id", "site inconnu dans votre communauté"}});
        }
      }
      repo::update_profile(tx, who.member_id, patch);
      repo::audit(tx, who.actor_id(), who.member_id, "profile.updated", "{}");
      auto updated = *repo::find_member(tx, who.member_id);
      s_.outbox.add(tx, kStream, "member.updated", updated.community_id, identity_event(updated));
      return updated;
    });
    forget_member(m.id, {});
    return json_response(200, me_json(m));
  }

  Response export_me(const Request& r) {
    auto who = caller(r);
    auto body = s_.db.transact([&](pqxx::work& tx) {
      auto m = repo::find_member(tx, who.member_id);
      if (!m) throw unauthorized();
      Json j = me_json(*m);
      j["exchanges_completed"] = m->exchanges_completed;
      j["reliability"] = reliability(*m);
      Json out{{"format", "maillon-export-v1"},
               {"exported_at", now_rfc3339()},
               {"profile", j},
               {"audit", Json::parse(repo::audit_json(tx, who.member_id))}};
      add_service_exports(tx, who.member_id, out);
      return out;
    });
    return json_response(200, body);
  }

  Response erase_me(const Request& r) {
    auto who = caller(r);
    confirm_password(who, r);
    auto revoked = s_.db.transact([&](pqxx::work& tx) {
      auto m = repo::find_member(tx, who.member_id);
      if (!m) throw unauthorized();
      before_erasure(tx, who.member_id);
      repo::erase_member(tx, who.member_id);
      auto ended = repo::revoke_all_sessions(tx, who.member_id);
      repo::audit(tx, who.actor_id(), who.member_id, "member.erased", "{}");
      s_.outbox.add(tx, kStream, "member.erased", m->community_id,
                    {{"member_id", m->id},
                     {"community_id", nullable(m->community_id)},
                     {"pseudonym", "membre-" + m->id.substr(0, 8)}});
      return ended;
    });
    std::vector<Authenticator::EndedSession> ended;
    for (const auto& [hash, seconds_left] : revoked) ended.push_back({hash, seconds_left});
    s_.auth.end_sessions(ended, who.member_id);
    Response out = json_response(202, {{"status", "erased"}});
    if (who.acting_staff_id.empty()) {
      for (auto& cookie : cleared_session_cookies()) out.headers.emplace_back("Set-Cookie", cookie);
    }
    return out;
  }

  Response create_community(const Request& r) {
    require_admin(caller(r));
    auto in = parse_community(r.body);
    const std::string id = new_uuid();
    Json policy = policy_to_json(in.policy);
    s_.db.transact([&](pqxx::work& tx) {
      repo::insert_community(tx, id, in.name, policy.dump());
      s_.outbox.add(tx, kStream, "community.created", id,
                    {{"community_id", id}, {"name", in.name}, {"policy", policy}});
    });
    return json_response(201, {{"id", id}, {"name", in.name}, {"policy", policy}});
  }

  Response get_community(const Request& r) {
    auto who = caller(r);
    const auto& id = r.param("id");
    if (!is_uuid(id) || (!who.is_admin && who.community_id != id))
      throw not_found("Communauté introuvable.");
    auto c = s_.db.transact([&](pqxx::work& tx) { return repo::find_community(tx, id); });
    if (!c) throw not_found("Communauté introuvable.");
    return json_response(
        200, {{"id", c->id}, {"name", c->name}, {"policy", Json::parse(c->policy_json)}});
  }

  Response create_site(const Request& r) {
    auto who = caller(r);
    require_community_admin(who);
    auto in = parse_site(r.body);
    require_administers(who, in.community_id);
    const std::string id = new_uuid();
    s_.db.transact([&](pqxx::work& tx) {
      if (!repo::find_community(tx, in.community_id)) {
        throw invalid_input("Communauté inconnue.", {{"community_id", "communauté inconnue"}});
      }
      repo::insert_site(tx, id, in);
      auto site = *repo::find_site(tx, id);
      s_.outbox.add(tx, kStream, "site.created", in.community_id, site_json(site));
    });
    auto site = s_.db.transact([&](pqxx::work& tx) { return *repo::find_site(tx, id); });
    return json_response(201, site_json(site));
  }

  Response list_sites(const Request& r) {
    auto page = page_request(r);
    auto community = r.query_value("community_id");
    if (community && !is_uuid(*community)) {
      throw invalid_input("Paramètre invalide.",
                          {{"community_id", "doit être un identifiant UUID"}});
    }
    if (!page.cursor.empty() && !is_uuid(page.cursor)) {
      throw invalid_input("Curseur invalide.", {{"cursor", "curseur inconnu ou altéré"}});
    }
    auto sites = s_.db.transact([&](pqxx::work& tx) {
      return repo::list_sites(tx, community, page.cursor, page.limit + 1);
    });
    Json items = Json::array();
    for (std::size_t i = 0; i < sites.size() && i < static_cast<std::size_t>(page.limit); ++i)
      items.push_back(site_json(sites[i]));
    Json next = sites.size() > static_cast<std::size_t>(page.limit)
                    ? Json(encode_cursor(sites[page.limit - 1].id))
                    : Json(nullptr);
    return json_response(200, {{"items", items}, {"next_cursor", next}});
  }

  Response get_site(const Request& r) {
    const auto& id = r.param("id");
    if (!is_uuid(id)) throw not_found("Site introuvable.");
    auto site = s_.db.transact([&](pqxx::work& tx) { return repo::find_site(tx, id); });
    if (!site) throw not_found("Site introuvable.");
    return json_response(200, site_json(*site));
  }

  Response add_staff(const Request& r) {
    auto who = caller(r);
    require_community_admin(who);
    const auto& site_id = r.param("id");
    auto member_id = parse_staff(r.body);
    if (!is_uuid(site_id)) throw not_found("Site introuvable.");
    auto hashes = s_.db.transact([&](pqxx::work& tx) {
      auto site = repo::find_site(tx, site_id);
      if (!site) throw not_found("Site introuvable.");
      require_administers(who, site->community_id);
      auto m = repo::find_member(tx, member_id);
      if (!m) throw invalid_input("Membre inconnu.", {{"member_id", "membre inconnu"}});
      if (m->community_id != site->community_id) {
        throw business_rule("member-not-in-community",
                            "Ce membre n'appartient pas à la communauté du site.");
      }
      if (repo::add_staff(tx, site_id, member_id, who.member_id)) {
        repo::audit(tx, who.member_id, member_id, "staff.added", Json{{"site_id", site_id}}.dump());
        auto updated = *repo::find_member(tx, member_id);
        s_.outbox.add(tx, kStream, "member.updated", updated.community_id, identity_event(updated));
      }
      return repo::live_session_hashes(tx, member_id);
    });
    forget_member(member_id, hashes);
    return Response::no_content();
  }

  Response get_member(const Request& r) {
    auto who = caller(r);
    const auto& id = r.param("id");
    if (!is_uuid(id)) throw not_found("Membre introuvable.");
    auto m = s_.db.transact([&](pqxx::work& tx) { return repo::find_member(tx, id); });
    if (!m || (!who.is_admin && m->community_id != who.community_id))
      throw not_found("Membre introuvable.");
    Json j = {{"id", m->id},
              {"display_name", m->display_name},
              {"home_site_id", nullable(m->home_site_id)},
              {"status", m->status},
              {"exchanges_completed", m->exchanges_completed},
              {"reliability", reliability(*m)}};
    bool staff_here =
        who.is_admin || (!m->home_site_id.empty() && who.is_staff_of(m->home_site_id));
    if (who.member_id == m->id || staff_here) {
      j["email"] = nullable(m->email);
      j["member_number"] = m->member_number;
    }
    return json_response(200, j);
  }
};

}  // namespace

void register_service(Service& service) {
  auto api = std::make_shared<MembersApi>(service);
  api->routes();
  register_moderation(service);
  service.on_start([api] { api->ensure_admin(); });
  // Reliability figures come from the exchange workflow's outcomes: a completed exchange counts
  // for both parties, an abandoned one only against whoever cancelled it (staff acting for a
  // member cancel in that member's name).
  service.consume("exchanges", [](pqxx::work& tx, const Event& e) {
    auto text = [&](const char* key) -> std::string {
      auto it = e.data.find(key);
      return it != e.data.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (e.type == "exchange.completed") {
      for (const char* side : {"provider_id", "receiver_id"}) {
        if (!text(side).empty()) repo::count_exchange(tx, text(side), true);
      }
    } else if (e.type == "exchange.abandoned") {
      std::string who = text("on_behalf_of").empty() ? text("actor_id") : text("on_behalf_of");
      if (!who.empty()) repo::count_exchange(tx, who, false);
    }
  });
}

}  // namespace maillon::members
