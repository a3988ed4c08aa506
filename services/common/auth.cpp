// Session verification shared by every service.
#include "services/common/auth.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "services/common/db.hpp"
#include "services/common/errors.hpp"
#include "services/common/http.hpp"
#include "services/common/ids.hpp"
#include "services/common/json_body.hpp"
#include "services/common/log.hpp"
#include "services/common/redis.hpp"

namespace maillon {
namespace {

// Published by the members schema (schemas/members/): the only way other services read it.
constexpr const char* kSessionIdentity = "SELECT members.session_identity($1)";
constexpr const char* kMemberIdentity = "SELECT members.member_identity($1::uuid)";
constexpr int kCacheSeconds = 300;

}  // namespace

bool Identity::is_staff_of(const std::string& site_id) const {
  return std::find(staff_site_ids.begin(), staff_site_ids.end(), site_id) != staff_site_ids.end();
}

std::string Identity::to_json() const {
  nlohmann::json j = {{"member_id", member_id},       {"community_id", community_id},
                      {"home_site_id", home_site_id}, {"display_name", display_name},
                      {"is_admin", is_admin},         {"staff_site_ids", staff_site_ids}};
  return j.dump();
}

std::optional<Identity> Identity::from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("member_id")) return std::nullopt;
  Identity id;
  id.member_id = j.value("member_id", "");
  id.community_id = j.value("community_id", "");
  id.home_site_id = j.value("home_site_id", "");
  id.display_name = j.value("display_name", "");
  id.is_admin = j.value("is_admin", false);
  if (j.contains("staff_site_ids") && j["staff_site_ids"].is_array()) {
    for (const auto& s : j["staff_site_ids"]) {
      if (s.is_string()) id.staff_site_ids.push_back(s.get<std::string>());
    }
  }
  return id;
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
  if (token.size() < 20 || token.size() > 200) return std::nullopt;
  const std::string hash = token_hash(token);
  try {
    auto cached = redis_.with([&](Redis& r) {
      return r.command({"MGET", session_key(hash), revoked_key(hash)});
    });
    if (cached && cached->type == REDIS_REPLY_ARRAY && cached->elements == 2) {
      if (cached->element[1]->type == REDIS_REPLY_STRING) return std::nullopt;  // revoked
      if (cached->element[0]->type == REDIS_REPLY_STRING)
        return Identity::from_json(reply_string(cached->element[0]));
    }
  } catch (const RedisError& e) {
    log::warn("session cache unavailable; asking PostgreSQL", {{"error", e.what()}});
  }
  auto text = db_.transact([&](pqxx::work& tx) -> std::optional<std::string> {
    auto r = tx.exec_params(kSessionIdentity, hash);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return std::string(r[0][0].c_str());
  });
  if (!text) return std::nullopt;
  try {
    redis_.with([&](Redis& r) {
      r.command({"SET", session_key(hash), *text, "EX", std::to_string(kCacheSeconds)});
    });
  } catch (const RedisError&) {
  }
  return Identity::from_json(*text);
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
    auto r = tx.exec_params(kMemberIdentity, member_id);
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

std::optional<Identity> Authenticator::optional(const Request& request) {
  auto header = request.header("authorization");
  if (!header) return std::nullopt;
  return require(request);
}

Identity Authenticator::require(const Request& request) {
  auto header = request.header("authorization");
  const std::string prefix = "Bearer ";
  if (!header || header->rfind(prefix, 0) != 0) throw unauthorized();
  auto caller = verify_token(header->substr(prefix.size()));
  if (!caller) throw unauthorized();
  auto behalf = request.header("x-on-behalf-of");
  if (!behalf || *behalf == caller->member_id) return *caller;
  auto target = member_identity(*behalf);
  if (!target) throw not_found("Le membre pour qui vous agissez est introuvable.");
  bool allowed = caller->is_admin ||
                 (!target->home_site_id.empty() && caller->is_staff_of(target->home_site_id));
  if (!allowed) throw forbidden("Seul le personnel du site du membre peut agir pour lui.");
  target->acting_staff_id = caller->member_id;
  return *target;
}

}  // namespace maillon
