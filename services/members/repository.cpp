// SQL of the members service.
#include "services/members/repository.hpp"

#include <algorithm>
#include <cctype>

#include "services/common/db.hpp"
#include "services/members/repository_sql.hpp"

namespace maillon::members::repo {
namespace {

std::optional<std::string> opt(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  return s;
}

MemberRow to_member(const pqxx::row& r) {
  MemberRow m;
  std::optional<double> lat;
  std::optional<double> lon;
  std::string staff;
  read_columns(r, m.id, m.community_id, m.email, m.display_name, m.home_site_id, lat, lon,
               m.is_admin, staff, m.exchanges_completed, m.exchanges_abandoned, m.password_hash,
               m.created_at, m.status, m.member_number, m.email_verified, m.rating_sum,
               m.rating_count, m.no_shows);
  if (lat && lon) m.location = Position{*lat, *lon};
  for (std::size_t start = 0; start < staff.size();) {
    auto end = staff.find(',', start);
    if (end == std::string::npos) end = staff.size();
    m.staff_site_ids.push_back(staff.substr(start, end - start));
    start = end + 1;
  }
  return m;
}

SiteRow to_site(const pqxx::row& r) {
  SiteRow s;
  read_columns(r, s.id, s.community_id, s.name, s.kind, s.location.lat, s.location.lon, s.address,
               s.opening_hours);
  return s;
}

}  // namespace

std::optional<MemberRow> find_member(pqxx::work& tx, const std::string& id) {
  auto r = exec_cached(tx,
                       std::string("SELECT ") + kMemberColumns +
                           " FROM members m WHERE m.id = $1 AND m.erased_at IS NULL",
                       id);
  if (r.empty()) return std::nullopt;
  return to_member(r[0]);
}

std::string email_key(Db& db, const std::string& email) {
  const bool ascii = std::all_of(email.begin(), email.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return lowercase_ascii(email);
  return read_only(db, [&](pqxx::transaction_base& tx) {
    return std::string(exec_cached(tx, kFoldEmail, email)[0][0].c_str());
  });
}

std::optional<MemberRow> find_member_by_email(pqxx::work& tx, const std::string& email) {
  auto r =
      exec_cached(tx,
                  std::string("SELECT ") + kMemberColumns +
                      " FROM members m WHERE lower(m.email) = lower($1) AND m.erased_at IS NULL",
                  email);
  if (r.empty()) return std::nullopt;
  return to_member(r[0]);
}

bool insert_member(pqxx::work& tx, const std::string& id, const RegisterInput& in,
                   const std::string& password_hash, bool is_admin) {
  std::optional<double> lat, lon;
  if (in.location) {
    lat = in.location->lat;
    lon = in.location->lon;
  }
  std::optional<std::string> community = opt(in.community_id);
  auto r = exec_cached(tx, kInsertMember, id, community, in.email, password_hash, in.display_name,
                       opt(in.home_site_id), lat, lon, is_admin);
  return r.affected_rows() == 1;
}

void update_profile(pqxx::work& tx, const std::string& id, const ProfilePatch& p) {
  std::optional<double> lat, lon;
  if (p.location) {
    lat = p.location->lat;
    lon = p.location->lon;
  }
  exec_cached(tx, kUpdateProfile, id, p.display_name, p.home_site_id, lat, lon);
}

void erase_member(pqxx::work& tx, const std::string& id) {
  exec_cached(tx, kEraseMember, id);
}

void insert_session(pqxx::work& tx, const std::string& hash, const std::string& member_id,
                    int hours) {
  exec_cached(tx, kInsertSession, hash, member_id, hours);
}

long long revoke_session(pqxx::work& tx, const std::string& hash) {
  auto r = exec_cached(tx, kRevokeSession, hash);
  return r.empty() ? 0 : r[0][0].as<long long>();
}

std::vector<std::string> live_session_hashes(pqxx::work& tx, const std::string& member_id) {
  std::vector<std::string> out;
  for (const auto& row : exec_cached(tx, kLiveSessions, member_id))
    out.emplace_back(row[0].c_str());
  return out;
}

std::vector<std::pair<std::string, long long>> revoke_all_sessions(pqxx::work& tx,
                                                                   const std::string& member_id) {
  std::vector<std::pair<std::string, long long>> out;
  for (const auto& row : exec_cached(tx, kRevokeAll, member_id))
    out.emplace_back(row[0].c_str(), row[1].as<long long>());
  return out;
}

void insert_community(pqxx::work& tx, const std::string& id, const std::string& name,
                      const std::string& policy_json) {
  exec_cached(tx, kInsertCommunity, id, name, policy_json);
}

std::optional<CommunityRow> lock_community(pqxx::work& tx, const std::string& id) {
  auto r = exec_cached(tx, kLockCommunity, id);
  if (r.empty()) return std::nullopt;
  return CommunityRow{r[0][0].c_str(), r[0][1].c_str(), r[0][2].c_str()};
}

void update_community(pqxx::work& tx, const CommunityRow& c) {
  exec_cached(tx, kUpdateCommunity, c.id, c.name, c.policy_json);
}

std::optional<SiteRow> lock_site(pqxx::work& tx, const std::string& id) {
  auto r = exec_cached(tx, std::string(kSiteColumns) + "WHERE id = $1 FOR UPDATE", id);
  if (r.empty()) return std::nullopt;
  return to_site(r[0]);
}

void update_site(pqxx::work& tx, const SiteRow& s) {
  exec_cached(tx, kUpdateSite, s.id, s.name, s.kind, s.location.lat, s.location.lon, s.address,
              s.opening_hours);
}

std::optional<CommunityRow> find_community(pqxx::work& tx, const std::string& id) {
  auto r = exec_cached(tx, kFindCommunity, id);
  if (r.empty()) return std::nullopt;
  return CommunityRow{r[0][0].c_str(), r[0][1].c_str(), r[0][2].c_str()};
}

void insert_site(pqxx::work& tx, const std::string& id, const SiteInput& in) {
  exec_cached(tx, kInsertSite, id, in.community_id, in.name, in.kind, in.location.lat,
              in.location.lon, in.address, in.opening_hours);
}

std::optional<SiteRow> find_site(pqxx::work& tx, const std::string& id) {
  auto r = exec_cached(tx, std::string(kSiteColumns) + "WHERE id = $1", id);
  if (r.empty()) return std::nullopt;
  return to_site(r[0]);
}

std::vector<SiteRow> list_sites(pqxx::work& tx, const std::optional<std::string>& community_id,
                                const std::string& after_id, int limit) {
  auto r = exec_cached(tx,
                       std::string(kSiteColumns) +
                           "WHERE ($1::uuid IS NULL OR community_id = $1::uuid) AND id > $2::uuid "
                           "ORDER BY id LIMIT $3",
                       community_id,
                       after_id.empty() ? "00000000-0000-0000-0000-000000000000" : after_id, limit);
  std::vector<SiteRow> out;
  for (const auto& row : r) out.push_back(to_site(row));
  return out;
}

bool add_staff(pqxx::work& tx, const std::string& site_id, const std::string& member_id,
               const std::string& added_by) {
  return exec_cached(tx, kAddStaff, site_id, member_id, opt(added_by)).affected_rows() == 1;
}

void audit(pqxx::work& tx, const std::string& actor_id, const std::string& subject_id,
           const std::string& action, const std::string& details_json) {
  exec_cached(tx, kAudit, opt(actor_id), opt(subject_id), action, details_json);
}

std::string audit_json(pqxx::work& tx, const std::string& subject_id) {
  return exec_cached(tx, kAuditJson, subject_id)[0][0].c_str();
}

void count_exchange(pqxx::work& tx, const std::string& member_id, bool completed) {
  exec_cached(tx, kCountExchange, member_id, completed ? 1 : 0, completed ? 0 : 1);
}

void record_rating(pqxx::work& tx, const std::string& member_id, int64_t stars) {
  exec_cached(tx, kRecordRating, member_id, stars);
}

void count_no_show(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kCountNoShow, member_id);
}

}  // namespace maillon::members::repo
