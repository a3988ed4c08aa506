// The SQL of the accounts operations (accounts.hpp): mailed tokens, verification, passwords,
// addresses and the list of sessions. Times of tokens come from the service's clock (Unix
// seconds), so that tests move them.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

namespace maillon::members::accounts_repo {

enum class TokenPurpose { verify, reset, email_change };

// A mailed token as stored: the selector names it, the verifier is kept only as a hash. It serves
// one purpose, for one member and the address it went to, once and until it expires.
struct TokenRow {
  std::string selector;
  std::string verifier_hash;
  TokenPurpose purpose = TokenPurpose::verify;
  std::string member_id;
  std::string email;
  int64_t created_at_s = 0;
  int64_t expires_at_s = 0;
  bool used = false;
};

void insert_token(pqxx::work& tx, const TokenRow& token);  // a new one: not used
// Locked until the transaction ends: of two uses of one token, the second sees it used.
std::optional<TokenRow> lock_token(pqxx::work& tx, const std::string& selector);
// Spends this token and every other open one of the member for the same purpose (an older reset
// link dies with the newer one's use).
void spend_tokens(pqxx::work& tx, const std::string& member_id, TokenPurpose purpose,
                  int64_t now_s);
void forget_tokens(pqxx::work& tx, const std::string& member_id);

// true when `email` is still the member's address (case aside) and is now marked verified.
bool mark_verified(pqxx::work& tx, const std::string& member_id, const std::string& email,
                   int64_t now_s);
void set_password(pqxx::work& tx, const std::string& member_id, const std::string& hash);
bool email_in_use(pqxx::work& tx, const std::string& email, const std::string& except_member_id);
// The new address, verified by the link just followed. A concurrent taker makes the unique index
// throw pqxx::unique_violation (the caller answers email-taken).
void set_email(pqxx::work& tx, const std::string& member_id, const std::string& email,
               int64_t now_s);

struct SessionRow {
  std::string id;
  std::string token_hash;
  std::string created_at;
  std::string last_seen_at;
  std::optional<std::string> user_agent;
};
inline constexpr int kSessionsListedMax = 100;
std::vector<SessionRow> live_sessions(pqxx::work& tx, const std::string& member_id);
// Revoked sessions: their hashes and the seconds each had left.
using Ended = std::vector<std::pair<std::string, long long>>;
Ended revoke_other_sessions(pqxx::work& tx, const std::string& member_id,
                            const std::string& kept_hash);
Ended revoke_session_by_id(pqxx::work& tx, const std::string& member_id,
                           const std::string& session_id);
void touch_session(pqxx::work& tx, const std::string& token_hash);
void describe_session(pqxx::work& tx, const std::string& token_hash, const std::string& user_agent);

}  // namespace maillon::members::accounts_repo
