// SQL of the accounts operations.
#include "services/members/accounts_repository.hpp"

namespace maillon::members::accounts_repo {
namespace {

constexpr const char* kInsertToken =
    "INSERT INTO account_tokens (selector, verifier_hash, purpose, member_id, email, created_at, "
    "expires_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($7))";
constexpr const char* kLockToken =
    "SELECT selector, verifier_hash, purpose, member_id, email, "
    "floor(extract(epoch FROM expires_at))::bigint, used_at IS NOT NULL "
    "FROM account_tokens WHERE selector = $1 FOR UPDATE";
constexpr const char* kSpendTokens =
    "UPDATE account_tokens SET used_at = to_timestamp($3) "
    "WHERE member_id = $1 AND purpose = $2 AND used_at IS NULL";
constexpr const char* kForgetTokens = "DELETE FROM account_tokens WHERE member_id = $1";
constexpr const char* kMarkVerified =
    "UPDATE members SET email_verified_at = to_timestamp($3), updated_at = now() "
    "WHERE id = $1 AND lower(email) = lower($2) AND erased_at IS NULL";
constexpr const char* kSetPassword =
    "UPDATE members SET password_hash = $2, updated_at = now() WHERE id = $1";
constexpr const char* kEmailInUse =
    "SELECT 1 FROM members WHERE lower(email) = lower($1) AND id <> $2";
constexpr const char* kSetEmail =
    "UPDATE members SET email = $2, email_verified_at = to_timestamp($3), updated_at = now() "
    "WHERE id = $1 AND erased_at IS NULL";
constexpr const char* kLiveSessions =
    "SELECT id, token_hash, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "to_char(COALESCE(last_seen_at, created_at) AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), user_agent "
    "FROM sessions WHERE member_id = $1 AND revoked_at IS NULL AND expires_at > now() "
    "ORDER BY COALESCE(last_seen_at, created_at) DESC, id LIMIT $2";
constexpr const char* kRevokeOthers =
    "UPDATE sessions SET revoked_at = now() "
    "WHERE member_id = $1 AND token_hash <> $2 AND revoked_at IS NULL "
    "RETURNING token_hash, GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint";
constexpr const char* kRevokeById =
    "UPDATE sessions SET revoked_at = now() "
    "WHERE member_id = $1 AND id = $2::uuid AND revoked_at IS NULL AND expires_at > now() "
    "RETURNING token_hash, GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint";
// One write a minute at most per session, however often it is used.
constexpr const char* kTouchSession =
    "UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1 AND revoked_at IS NULL "
    "AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')";
constexpr const char* kDescribeSession =
    "UPDATE sessions SET user_agent = NULLIF($2, ''), last_seen_at = now() WHERE token_hash = $1";

Ended ended_rows(const pqxx::result& r) {
  Ended out;
  for (const auto& row : r) out.emplace_back(row[0].c_str(), row[1].as<long long>());
  return out;
}

}  // namespace

void insert_token(pqxx::work& tx, const NewToken& t) {
  tx.exec_params(kInsertToken, t.selector, t.verifier_hash, t.purpose, t.member_id, t.email,
                 t.created_at_s, t.expires_at_s);
}

std::optional<TokenRow> lock_token(pqxx::work& tx, const std::string& selector) {
  auto r = tx.exec_params(kLockToken, selector);
  if (r.empty()) return std::nullopt;
  const auto& row = r[0];
  return TokenRow{row[0].c_str(), row[1].c_str(),       row[2].c_str(),   row[3].c_str(),
                  row[4].c_str(), row[5].as<int64_t>(), row[6].as<bool>()};
}

void spend_tokens(pqxx::work& tx, const std::string& member_id, const std::string& purpose,
                  int64_t now_s) {
  tx.exec_params(kSpendTokens, member_id, purpose, now_s);
}

void forget_tokens(pqxx::work& tx, const std::string& member_id) {
  tx.exec_params(kForgetTokens, member_id);
}

bool mark_verified(pqxx::work& tx, const std::string& member_id, const std::string& email,
                   int64_t now_s) {
  return tx.exec_params(kMarkVerified, member_id, email, now_s).affected_rows() == 1;
}

void set_password(pqxx::work& tx, const std::string& member_id, const std::string& hash) {
  tx.exec_params(kSetPassword, member_id, hash);
}

bool email_in_use(pqxx::work& tx, const std::string& email, const std::string& except_member_id) {
  return !tx.exec_params(kEmailInUse, email, except_member_id).empty();
}

void set_email(pqxx::work& tx, const std::string& member_id, const std::string& email,
               int64_t now_s) {
  tx.exec_params(kSetEmail, member_id, email, now_s);
}

std::vector<SessionRow> live_sessions(pqxx::work& tx, const std::string& member_id) {
  std::vector<SessionRow> out;
  for (const auto& row : tx.exec_params(kLiveSessions, member_id, kSessionsListedMax)) {
    SessionRow s{row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(), std::nullopt};
    if (!row[4].is_null()) s.user_agent = row[4].c_str();
    out.push_back(std::move(s));
  }
  return out;
}

Ended revoke_other_sessions(pqxx::work& tx, const std::string& member_id,
                            const std::string& kept_hash) {
  return ended_rows(tx.exec_params(kRevokeOthers, member_id, kept_hash));
}

Ended revoke_session_by_id(pqxx::work& tx, const std::string& member_id,
                           const std::string& session_id) {
  return ended_rows(tx.exec_params(kRevokeById, member_id, session_id));
}

void touch_session(pqxx::work& tx, const std::string& token_hash) {
  tx.exec_params(kTouchSession, token_hash);
}

void describe_session(pqxx::work& tx, const std::string& token_hash,
                      const std::string& user_agent) {
  tx.exec_params(kDescribeSession, token_hash, user_agent);
}

}  // namespace maillon::members::accounts_repo
