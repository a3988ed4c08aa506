// SQL of the accounts operations.
#include "services/members/accounts_repository.hpp"

#include "exchange/enum_names.hpp"
#include "services/common/db.hpp"
#include "services/members/accounts_repository_sql.hpp"

namespace maillon::members::accounts_repo {
namespace {

constexpr EnumName<TokenPurpose> kPurposes[] = {{TokenPurpose::verify, "verify"},
                                                {TokenPurpose::reset, "reset"},
                                                {TokenPurpose::email_change, "email-change"}};

std::string purpose_name(TokenPurpose purpose) {
  return std::string(enum_name(kPurposes, purpose));
}

Ended ended_rows(const pqxx::result& r) {
  Ended out;
  for (const auto& row : r) out.emplace_back(row[0].c_str(), row[1].as<long long>());
  return out;
}

}  // namespace

void insert_token(pqxx::work& tx, const TokenRow& t) {
  exec_cached(tx, kInsertToken, t.selector, t.verifier_hash, purpose_name(t.purpose), t.member_id,
              t.email, t.created_at_s, t.expires_at_s);
}

std::optional<TokenRow> lock_token(pqxx::work& tx, const std::string& selector) {
  auto r = exec_cached(tx, kLockToken, selector);
  if (r.empty()) return std::nullopt;
  TokenRow t;
  const auto purpose = [](std::string_view name) { return enum_from_name(kPurposes, name); };
  read_columns(r[0], t.selector, t.verifier_hash, parsed(t.purpose, purpose), t.member_id, t.email,
               t.created_at_s, t.expires_at_s, t.used);
  return t;
}

void spend_tokens(pqxx::work& tx, const std::string& member_id, TokenPurpose purpose,
                  int64_t now_s) {
  exec_cached(tx, kSpendTokens, member_id, purpose_name(purpose), now_s);
}

void forget_tokens(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kForgetTokens, member_id);
}

bool mark_verified(pqxx::work& tx, const std::string& member_id, const std::string& email,
                   int64_t now_s) {
  return exec_cached(tx, kMarkVerified, member_id, email, now_s).affected_rows() == 1;
}

void set_password(pqxx::work& tx, const std::string& member_id, const std::string& hash) {
  exec_cached(tx, kSetPassword, member_id, hash);
}

bool email_in_use(pqxx::work& tx, const std::string& email, const std::string& except_member_id) {
  return !exec_cached(tx, kEmailInUse, email, except_member_id).empty();
}

void set_email(pqxx::work& tx, const std::string& member_id, const std::string& email,
               int64_t now_s) {
  exec_cached(tx, kSetEmail, member_id, email, now_s);
}

std::vector<SessionRow> live_sessions(pqxx::work& tx, const std::string& member_id) {
  std::vector<SessionRow> out;
  for (const auto& row : exec_cached(tx, kLiveSessions, member_id, kSessionsListedMax)) {
    SessionRow s{row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(), std::nullopt};
    if (!row[4].is_null()) s.user_agent = row[4].c_str();
    out.push_back(std::move(s));
  }
  return out;
}

Ended revoke_other_sessions(pqxx::work& tx, const std::string& member_id,
                            const std::string& kept_hash) {
  return ended_rows(exec_cached(tx, kRevokeOthers, member_id, kept_hash));
}

Ended revoke_session_by_id(pqxx::work& tx, const std::string& member_id,
                           const std::string& session_id) {
  return ended_rows(exec_cached(tx, kRevokeById, member_id, session_id));
}

void touch_session(pqxx::work& tx, const std::string& token_hash) {
  exec_cached(tx, kTouchSession, token_hash);
}

void describe_session(pqxx::work& tx, const std::string& token_hash,
                      const std::string& user_agent) {
  exec_cached(tx, kDescribeSession, token_hash, user_agent);
}

}  // namespace maillon::members::accounts_repo
