// Session verification shared by every service.
#include "services/common/auth.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "services/common/auth_headers.hpp"
#include "services/common/auth_sql.hpp"
#include "services/common/db.hpp"
#include "services/common/errors.hpp"
#include "services/common/http.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/redis.hpp"
#include "services/common/time.hpp"

namespace maillon {
namespace {

constexpr int kCacheSeconds = Authenticator::kSessionCacheSeconds;

int64_t epoch_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What is left of a session ending at `expires_at_s` (whole seconds, rounded down by the SQL
// function): counted in milliseconds, so that no copy outlives the end by a fraction.
std::chrono::milliseconds time_left(int64_t expires_at_s) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return std::chrono::milliseconds(expires_at_s * 1000) - now;
}

// The cached form of a session: its identity and when it ends ("expires_at", epoch seconds).
std::optional<int64_t> expiry_of(const nlohmann::json& j) {
  const auto at = j.find("expires_at");
  if (at == j.end() || !at->is_number_integer()) return std::nullopt;
  return at->get<int64_t>();
}

// The JSON object a cached text holds; nothing when it is not one.
std::optional<nlohmann::json> json_object(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// An identity from its parsed JSON (an object).
std::optional<Identity> identity_of(const nlohmann::json& j) {
  if (!j.contains("member_id")) return std::nullopt;
  Identity id;
  id.member_id = j.value("member_id", "");
  id.community_id = j.value("community_id", "");
  id.home_site_id = j.value("home_site_id", "");
  id.display_name = j.value("display_name", "");
  id.is_admin = j.value("is_admin", false);
  for (auto [list, out] : {std::pair{"staff_site_ids", &id.staff_site_ids},
                           std::pair{"admin_community_ids", &id.admin_community_ids}}) {
    const auto values = j.find(list);
    if (values == j.end() || !values->is_array()) continue;
    for (const auto& s : *values) {
      if (s.is_string()) out->push_back(s.get<std::string>());
    }
  }
  id.status = j.value("status", "active");
  return id;
}

ApiError csrf_refused() {
  return ApiError(403, "csrf", "Jeton CSRF manquant ou invalide",
                  "Une écriture authentifiée par le cookie de session doit porter l'en-tête "
                  "X-CSRF-Token (la valeur du cookie maillon_csrf).");
}

// Tickets are shared by every replica through Redis only: without it, none can be checked.
ApiError tickets_unavailable() {
  return ApiError(503, "unavailable", "Service indisponible",
                  "Le flux en direct est momentanément indisponible ; réessayez.");
}

}  // namespace

bool Identity::is_staff_of(const std::string& site_id) const {
  return std::find(staff_site_ids.begin(), staff_site_ids.end(), site_id) != staff_site_ids.end();
}

bool Identity::administers(const std::string& community_id) const {
  return is_admin || std::find(admin_community_ids.begin(), admin_community_ids.end(),
                               community_id) != admin_community_ids.end();
}

std::string Identity::to_json() const {
  nlohmann::json j = {{"member_id", member_id},
                      {"community_id", community_id},
                      {"home_site_id", home_site_id},
                      {"display_name", display_name},
                      {"is_admin", is_admin},
                      {"staff_site_ids", staff_site_ids},
                      {"admin_community_ids", admin_community_ids},
                      {"status", status}};
  return j.dump();
}

std::optional<Identity> Identity::from_json(const std::string& text) {
  const auto j = json_object(text);
  return j ? identity_of(*j) : std::nullopt;
}

Authenticator::Authenticator(Db& db, RedisPool& redis, std::string prefix)
    : db_(db), redis_(redis), prefix_(std::move(prefix)) {}

std::string Authenticator::session_key(const std::string& h) const {
  return prefix_ + ":session:" + h;
}
std::string Authenticator::revoked_key(const std::string& h) const {
  return prefix_ + ":revoked:" + h;
}
std::string Authenticator::identity_key(const std::string& m) const {
  return prefix_ + ":identity:" + m;
}

std::optional<Identity> Authenticator::verify_token(const std::string& token) {
  return verify_token(token, nullptr);
}

std::optional<Identity> Authenticator::verify_token(const std::string& token, ActedFor* acted_for) {
  if (token.size() < kTokenLengthMin || token.size() > kTokenLengthMax) return std::nullopt;
  auto session = shared_session(token_hash(token), acted_for);
  if (!session) return std::nullopt;
  return session->who;
}

// No copy of a session is kept in the process: a revocation (logout, suspension, erasure) is a
// tombstone in Redis written before the members service answers, so the next request anywhere
// sees it. A copy in the process would have to hear of the revocation first, and an announcement
// by publish/subscribe may reach a subscriber after the publisher has answered its client.
std::optional<Identity> Authenticator::verify_hash(const std::string& hash) {
  auto session = shared_session(hash);
  if (!session) return std::nullopt;
  return session->who;
}

// A cached copy lives at most kCacheSeconds and never past the session's end; one without an
// end (written by an older process) is not trusted.
std::optional<Authenticator::Session> Authenticator::shared_session(const std::string& hash,
                                                                    ActedFor* acted_for) {
  // One parse for both the end and the identity.
  auto read = [&](const std::string& text) -> std::optional<Session> {
    const auto j = json_object(text);
    if (!j) return std::nullopt;
    const auto expires = expiry_of(*j);
    if (!expires || time_left(*expires).count() <= 0) return std::nullopt;
    auto who = identity_of(*j);
    if (!who) return std::nullopt;
    return Session{*std::move(who), *expires};
  };
  try {
    std::vector<std::string> keys = {"MGET", session_key(hash), revoked_key(hash)};
    if (acted_for != nullptr) keys.push_back(identity_key(acted_for->member_id));
    auto cached = redis_.with([&](Redis& r) { return r.command(keys); });
    if (cached && cached->type == REDIS_REPLY_ARRAY && cached->elements == keys.size() - 1) {
      if (cached->element[1]->type == REDIS_REPLY_STRING) return std::nullopt;  // revoked
      if (acted_for != nullptr && cached->element[2]->type == REDIS_REPLY_STRING)
        acted_for->cached = reply_string(cached->element[2]);
      if (cached->element[0]->type == REDIS_REPLY_STRING) {
        if (auto session = read(reply_string(cached->element[0]))) return session;
      }
    }
  } catch (const RedisError& e) {
    log::warn("session cache unavailable; asking PostgreSQL", {{"error", e.what()}});
  }
  auto text = db_.transact([&](pqxx::work& tx) -> std::optional<std::string> {
    auto r = exec_cached(tx, kSessionIdentity, hash);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return std::string(r[0][0].c_str());
  });
  if (!text) return std::nullopt;
  auto session = read(*text);
  if (!session) return std::nullopt;
  const int64_t ttl_ms =
      std::min<int64_t>(kCacheSeconds * 1000LL, time_left(session->expires_at_s).count());
  try {
    if (ttl_ms > 0) {
      redis_.with([&](Redis& r) {
        r.command({"SET", session_key(hash), *text, "PX", std::to_string(ttl_ms)});
      });
    }
  } catch (const RedisError&) {
  }
  return session;
}

void Authenticator::warm_session(const std::string& token_hash) {
  shared_session(token_hash);
}

void Authenticator::end_sessions(const std::vector<EndedSession>& ended,
                                 const std::string& member_id) {
  std::vector<std::vector<std::string>> commands;
  if (!member_id.empty()) commands.push_back({"DEL", identity_key(member_id)});
  for (const auto& session : ended) {
    commands.push_back({"DEL", session_key(session.token_hash)});
    commands.push_back({"SET", revoked_key(session.token_hash), "1", "EX",
                        std::to_string(std::max(session.seconds_left, 1LL))});
  }
  // Processes of the previous release keep copies of sessions in memory and drop them on this
  // announcement (<prefix>:auth-changes); it goes once every reader is of this release.
  for (const auto& session : ended)
    commands.push_back({"PUBLISH", prefix_ + ":auth-changes", "session:" + session.token_hash});
  if (!member_id.empty())
    commands.push_back({"PUBLISH", prefix_ + ":auth-changes", "member:" + member_id});
  if (!commands.empty()) redis_.with([&](Redis& r) { r.pipeline(commands); });
}

std::optional<Identity> Authenticator::member_identity(const std::string& member_id) {
  if (!is_uuid(member_id)) return std::nullopt;
  try {
    auto cached = redis_.with([&](Redis& r) {
      return r.command({"GET", identity_key(member_id)});
    });
    if (cached && cached->type == REDIS_REPLY_STRING)
      return Identity::from_json(reply_string(cached.get()));
  } catch (const RedisError&) {
  }
  auto text = db_.transact([&](pqxx::work& tx) -> std::optional<std::string> {
    auto r = exec_cached(tx, kMemberIdentity, member_id);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return std::string(r[0][0].c_str());
  });
  if (!text) return std::nullopt;
  try {
    redis_.with([&](Redis& r) { r.command({"SET", identity_key(member_id), *text, "EX", "60"}); });
  } catch (const RedisError&) {
  }
  return Identity::from_json(*text);
}

std::optional<PresentedToken> Authenticator::presented_token(const Request& request) {
  if (auto header = request.header("authorization")) {
    auto token = bearer_token(*header);
    if (!token) return std::nullopt;
    return PresentedToken{*token, false};
  }
  auto cookies = request.header("cookie");
  if (!cookies) return std::nullopt;
  auto token = cookie_value(*cookies, kSessionCookie);
  if (!token || token->empty()) return std::nullopt;
  return PresentedToken{*token, true};
}

std::optional<Identity> Authenticator::optional(const Request& request) {
  if (!request.header("authorization")) {
    auto presented = presented_token(request);
    if (!presented || !verify_token(presented->token)) return std::nullopt;
  }
  return require(request);
}

Identity Authenticator::require(const Request& request) {
  auto presented = presented_token(request);
  if (!presented) throw unauthorized();
  auto behalf = request.header("x-on-behalf-of");
  ActedFor acted_for;
  if (behalf) acted_for.member_id = parse_member_id(*behalf).value_or("");
  auto caller = verify_token(presented->token, acted_for.member_id.empty() ? nullptr : &acted_for);
  if (!caller) throw unauthorized();
  // A form or script of another site can make the browser send the cookie, never this header.
  if (presented->from_cookie && is_unsafe_method(request.method)) {
    auto csrf = request.header(std::string(kCsrfHeader));
    if (!csrf || !csrf_token_matches(*csrf, presented->token)) throw csrf_refused();
  }
  if (!behalf) return *caller;
  return act_for(*caller, *behalf, acted_for);
}

Identity Authenticator::act_for(const Identity& caller, const std::string& header,
                                const ActedFor& acted_for) {
  auto target_id = parse_member_id(header);
  if (!target_id) {
    throw invalid_input("En-tête X-On-Behalf-Of invalide.",
                        {{"X-On-Behalf-Of", "doit être l'identifiant d'un membre"}});
  }
  if (*target_id == caller.member_id) return caller;
  // Read with the session when Redis had it (the same copy member_identity would read).
  auto target = acted_for.cached && acted_for.member_id == *target_id
                    ? Identity::from_json(*acted_for.cached)
                    : member_identity(*target_id);
  if (!target) throw not_found("Le membre pour qui vous agissez est introuvable.");
  bool allowed = caller.is_admin ||
                 (!target->home_site_id.empty() && caller.is_staff_of(target->home_site_id));
  if (!allowed) throw forbidden("Seul le personnel du site du membre peut agir pour lui.");
  // Borrowing someone's powers would let staff reach a desk or a role that is not theirs.
  if (target->is_admin || target->is_staff() || !target->admin_community_ids.empty()) {
    throw forbidden("On n'agit que pour un membre sans rôle (ni personnel, ni administrateur).");
  }
  Identity acting = *target;
  acting.staff_site_ids = caller.staff_site_ids;
  acting.is_admin = false;
  acting.admin_community_ids.clear();
  acting.acting_staff_id = caller.member_id;
  return acting;
}

Authenticator::StreamTicket Authenticator::issue_stream_ticket(const Request& request) {
  const Identity who = require(request);
  if (!who.acting_staff_id.empty()) {
    throw forbidden("Le flux de notifications s'ouvre avec votre propre session.");
  }
  const std::string ticket = new_token();
  const std::string session = token_hash(presented_token(request)->token);
  try {
    redis_.with([&](Redis& r) {
      r.command({"SET", prefix_ + ":stream-ticket:" + token_hash(ticket), session, "EX",
                 std::to_string(kStreamTicketSeconds)});
    });
  } catch (const RedisError&) {
    throw tickets_unavailable();
  }
  return {ticket, format_rfc3339(epoch_seconds_now() + kStreamTicketSeconds)};
}

std::optional<Authenticator::StreamSession> Authenticator::redeem_stream_ticket(
    const std::string& ticket) {
  if (ticket.size() < kTokenLengthMin || ticket.size() > kTokenLengthMax) return std::nullopt;
  // GETDEL: of two requests with one ticket, exactly one gets the session.
  RedisReply session;
  try {
    session = redis_.with([&](Redis& r) {
      return r.command({"GETDEL", prefix_ + ":stream-ticket:" + token_hash(ticket)});
    });
  } catch (const RedisError&) {
    throw tickets_unavailable();
  }
  if (!session || session->type != REDIS_REPLY_STRING) return std::nullopt;
  std::string hash = reply_string(session.get());
  auto who = verify_hash(hash);
  if (!who) return std::nullopt;
  return StreamSession{*std::move(who), std::move(hash)};
}

Authenticator::StreamSession Authenticator::stream_session(const Request& request) {
  Identity who = require(request);
  return {std::move(who), token_hash(presented_token(request)->token)};
}

}  // namespace maillon
