// Who is calling: session tokens checked by every service, roles, and staff acting for a member.
// The members service owns sessions; others verify through Redis (fast path) and the members
// schema's published SQL functions (session_identity, member_identity) when Redis has no entry.
// A session comes as `Authorization: Bearer` (API clients) or as the web session cookie, which
// must be accompanied by X-CSRF-Token for anything but a read (auth_headers.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace maillon {

class Db;
class RedisPool;
struct Request;

struct Identity {
  std::string member_id;
  std::string community_id;
  std::string home_site_id;  // "" when none
  std::string display_name;
  bool is_admin = false;
  std::vector<std::string> staff_site_ids;
  // Communities this member administers (a community admin manages only those).
  std::vector<std::string> admin_community_ids;
  // "active", "pending" (membership awaiting approval) or "suspended".
  std::string status = "active";
  // Set when a staff member acts for this member (X-On-Behalf-Of): the one who really acted.
  std::string acting_staff_id;

  bool is_staff_of(const std::string& site_id) const;
  bool is_staff() const { return !staff_site_ids.empty(); }
  bool administers(const std::string& community_id) const;
  bool is_pending() const { return status == "pending"; }
  // The id to record as the actor: the staff member when acting for someone, else the member.
  const std::string& actor_id() const {
    return acting_staff_id.empty() ? member_id : acting_staff_id;
  }
  std::string to_json() const;
  static std::optional<Identity> from_json(const std::string& text);
};

// The session a request presents, and how.
struct PresentedToken {
  std::string token;
  bool from_cookie = false;
};

class Authenticator {
 public:
  // No copy of a verified session is kept longer than this (nor past the session's end).
  static constexpr int kSessionCacheSeconds = 300;
  static constexpr int kStreamTicketSeconds = 60;

  Authenticator(Db& db, RedisPool& redis, std::string prefix);

  // Members service, once the revocation of these sessions is committed: a tombstone for each
  // (it outlives any copy a reader may be caching at this moment) and the cached copies dropped,
  // all before the members service answers. With a member id, the member's cached identity goes
  // too (erasure, suspension).
  struct EndedSession {
    std::string token_hash;
    long long seconds_left = 1;  // until the session would have expired
  };
  void end_sessions(const std::vector<EndedSession>& ended, const std::string& member_id = "");
  // Members service, after a login: the new session cached before its first use.
  void warm_session(const std::string& token_hash);

  // The caller's identity (after X-On-Behalf-Of); throws 401 without a valid session, 403 for a
  // cookie without its CSRF token on a write, and 403 when the caller may not act for the named
  // member. Acting for a member lends the member's rights, never their powers: the target must
  // be a plain member; the answer has the target's member fields, the caller's own staff sites,
  // no admin role and acting_staff_id set.
  Identity require(const Request& request);
  // nullopt for a request without any session; a stale cookie also counts as none (the page
  // stays readable), a bad Authorization header does not.
  std::optional<Identity> optional(const Request& request);
  std::optional<Identity> verify_token(const std::string& token);
  std::optional<Identity> member_identity(const std::string& member_id);
  static std::optional<PresentedToken> presented_token(const Request& request);

  // Live notification stream: a ticket for the caller's session (201 {ticket, expires_at}), used
  // once within kStreamTicketSeconds as ?ticket=, so that no session token goes in a URL.
  struct StreamTicket {
    std::string ticket;
    std::string expires_at;  // RFC 3339
  };
  StreamTicket issue_stream_ticket(const Request& request);
  // The session's identity and the session (its token's hash), if the ticket is live and the
  // session too; the ticket is spent.
  struct StreamSession {
    Identity who;
    std::string session;  // token_hash of the session's token: what verify_hash checks again
  };
  std::optional<StreamSession> redeem_stream_ticket(const std::string& ticket);
  // The same for a request that presents its session itself (cookie or Authorization).
  StreamSession stream_session(const Request& request);
  // Whether that session still stands (not revoked, not expired, its member not suspended).
  bool session_stands(const std::string& session) { return verify_hash(session).has_value(); }

  // Cache keys (the members service writes and deletes them).
  std::string session_key(const std::string& token_hash) const;
  std::string revoked_key(const std::string& token_hash) const;
  std::string identity_key(const std::string& member_id) const;
  const std::string& key_prefix() const { return prefix_; }

 private:
  Db& db_;
  RedisPool& redis_;
  std::string prefix_;
  struct Session {
    Identity who;
    int64_t expires_at_s = 0;  // seconds since the epoch
  };
  // The cached identity of the member a request acts for, read from Redis in the same round
  // trip as the caller's session (the desk's every request acts for someone).
  struct ActedFor {
    std::string member_id;
    std::optional<std::string> cached;  // the identity_key's text, when Redis had it
  };
  // Redis, then PostgreSQL; with `acted_for`, that member's cached identity is read alongside.
  std::optional<Session> shared_session(const std::string& hash, ActedFor* acted_for = nullptr);
  std::optional<Identity> verify_hash(const std::string& hash);
  std::optional<Identity> verify_token(const std::string& token, ActedFor* acted_for);
  Identity act_for(const Identity& caller, const std::string& header, const ActedFor& acted_for);
};

}  // namespace maillon
