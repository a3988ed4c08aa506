// Who is calling: session tokens checked by every service, roles, and staff acting for a member.
// The members service owns sessions; others verify through Redis (fast path) and the members
// schema's published SQL functions (session_identity, member_identity) when Redis has no entry.
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

class Authenticator {
 public:
  Authenticator(Db& db, RedisPool& redis, std::string prefix);
  ~Authenticator();

  // Verified sessions are also kept in this process for a few seconds, but only while it is
  // subscribed to the members service's announcements (<prefix>:auth-changes): a logout, an
  // erasure or a change of roles reaches every process at once, and a lost subscription empties
  // the local copies until it is back. start() runs the subscriber thread; stop() ends it.
  void start();
  void stop();
  // Members service: every process forgets this session / every session of this member.
  void announce_session_change(const std::string& token_hash);
  void announce_member_change(const std::string& member_id);

  // The caller's identity (after X-On-Behalf-Of); throws 401 without a valid token and 403 when
  // the caller may not act for the named member.
  Identity require(const Request& request);
  std::optional<Identity> optional(const Request& request);
  std::optional<Identity> verify_token(const std::string& token);
  std::optional<Identity> member_identity(const std::string& member_id);

  // Cache keys (the members service writes and deletes them).
  std::string session_key(const std::string& token_hash) const;
  std::string revoked_key(const std::string& token_hash) const;
  std::string identity_key(const std::string& member_id) const;

 private:
  Db& db_;
  RedisPool& redis_;
  std::string prefix_;
  struct Local;
  std::unique_ptr<Local> local_;
  std::optional<Identity> local_session(const std::string& hash);
  std::optional<Identity> shared_session(const std::string& hash);  // Redis, then PostgreSQL
  void keep_local(const std::string& hash, const Identity& who, uint64_t generation);
  void listen();
};

}  // namespace maillon
