// The members schema's SQL, one named statement per action.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "services/members/members.hpp"

namespace maillon {
class Db;
}

namespace maillon::members::repo {

struct MemberRow {
  std::string id;
  std::string community_id;  // "" for an administrator without community
  std::string email;
  std::string display_name;
  std::string home_site_id;  // "" when none
  std::optional<Position> location;
  bool is_admin = false;
  std::vector<std::string> staff_site_ids;
  int exchanges_completed = 0;
  int exchanges_abandoned = 0;
  std::string password_hash;
  std::string created_at;
  std::string status = "active";  // active, pending or suspended (lifecycle.hpp)
  long long member_number = 0;    // per community; 0 for an administrator without community
  bool email_verified = false;    // a link mailed to `email` was followed (accounts.hpp)
  int64_t rating_sum = 0;         // stars received (exchange.rated)
  int rating_count = 0;
  int no_shows = 0;  // exchanges they did not come to (exchange.no_show)
};

struct CommunityRow {
  std::string id;
  std::string name;
  std::string policy_json;
};

// A site as stored: its id and what it was created with (SiteInput), as updated since.
struct SiteRow : SiteInput {
  std::string id;
};

std::optional<MemberRow> find_member(pqxx::work& tx, const std::string& id);
// The key naming an address whatever its spelling, folded as the database folds it to find the
// account (lower(email)): an ASCII address here, any other by PostgreSQL itself, so that a
// spelling PostgreSQL folds alike (K, the Kelvin sign, for k) never opens counters of its own.
std::string email_key(Db& db, const std::string& email);
std::optional<MemberRow> find_member_by_email(pqxx::work& tx, const std::string& email);
// false when the e-mail is taken (one statement settles the race).
bool insert_member(pqxx::work& tx, const std::string& id, const RegisterInput& in,
                   const std::string& password_hash, bool is_admin);
void update_profile(pqxx::work& tx, const std::string& id, const ProfilePatch& patch);
void erase_member(pqxx::work& tx, const std::string& id);
void insert_session(pqxx::work& tx, const std::string& token_hash, const std::string& member_id,
                    int hours);
// Revokes one session; returns its expiry in seconds from now (0 when it was not live).
long long revoke_session(pqxx::work& tx, const std::string& token_hash);
std::vector<std::string> live_session_hashes(pqxx::work& tx, const std::string& member_id);
// Revokes every live session of the member: their hashes and the seconds each had left.
std::vector<std::pair<std::string, long long>> revoke_all_sessions(pqxx::work& tx,
                                                                   const std::string& member_id);

void insert_community(pqxx::work& tx, const std::string& id, const std::string& name,
                      const std::string& policy_json);
std::optional<CommunityRow> find_community(pqxx::work& tx, const std::string& id);
// PATCH reads the row locked, then writes it whole: two patches never lose each other's fields,
// and their events leave in the order of their commits.
std::optional<CommunityRow> lock_community(pqxx::work& tx, const std::string& id);
void update_community(pqxx::work& tx, const CommunityRow& community);
std::optional<SiteRow> lock_site(pqxx::work& tx, const std::string& id);
void update_site(pqxx::work& tx, const SiteRow& site);

void insert_site(pqxx::work& tx, const std::string& id, const SiteInput& in);
std::optional<SiteRow> find_site(pqxx::work& tx, const std::string& id);
std::vector<SiteRow> list_sites(pqxx::work& tx, const std::optional<std::string>& community_id,
                                const std::string& after_id, int limit);
bool add_staff(pqxx::work& tx, const std::string& site_id, const std::string& member_id,
               const std::string& added_by);

void audit(pqxx::work& tx, const std::string& actor_id, const std::string& subject_id,
           const std::string& action, const std::string& details_json);
std::string audit_json(pqxx::work& tx, const std::string& subject_id);
void count_exchange(pqxx::work& tx, const std::string& member_id, bool completed);
void record_rating(pqxx::work& tx, const std::string& member_id, int64_t stars);
void count_no_show(pqxx::work& tx, const std::string& member_id);

}  // namespace maillon::members::repo
