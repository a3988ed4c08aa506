// SQL of the members service.
#include "services/members/repository.hpp"

#include "services/common/db.hpp"

namespace maillon::members::repo {
namespace {

constexpr const char* kMemberColumns =
    "m.id, COALESCE(m.community_id::text, ''), m.email, m.display_name, "
    "COALESCE(m.home_site_id::text, ''), m.lat, m.lon, m.is_admin, "
    "COALESCE((SELECT string_agg(s.site_id::text, ',' ORDER BY s.site_id) FROM site_staff s "
    "WHERE s.member_id = m.id), ''), m.exchanges_completed, m.exchanges_abandoned, "
    "COALESCE(m.password_hash, ''), to_char(m.created_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), m.status, COALESCE(m.member_number, 0), "
    "m.email_verified_at IS NOT NULL, m.rating_sum, m.rating_count, m.no_shows";

constexpr const char* kInsertMember =
    "INSERT INTO members (id, community_id, email, password_hash, display_name, home_site_id, lat, "
    "lon, is_admin) VALUES ($1, $2::uuid, $3, $4, $5, $6::uuid, $7, $8, $9) ON CONFLICT DO NOTHING";
constexpr const char* kUpdateProfile =
    "UPDATE members SET display_name = COALESCE($2, display_name), "
    "home_site_id = COALESCE($3::uuid, home_site_id), lat = COALESCE($4, lat), "
    "lon = COALESCE($5, lon), updated_at = now() WHERE id = $1";
constexpr const char* kEraseMember =
    "UPDATE members SET email = 'erased-' || id || '@invalid', display_name = 'Membre supprimé', "
    "password_hash = NULL, lat = NULL, lon = NULL, erased_at = now(), updated_at = now() "
    "WHERE id = $1";
constexpr const char* kInsertSession =
    "INSERT INTO sessions (token_hash, member_id, expires_at) "
    "VALUES ($1, $2, now() + make_interval(hours => $3))";
constexpr const char* kRevokeSession =
    "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL "
    "RETURNING GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint";
constexpr const char* kLiveSessions =
    "SELECT token_hash FROM sessions WHERE member_id = $1 AND revoked_at IS NULL AND expires_at > "
    "now()";
constexpr const char* kRevokeAll =
    "UPDATE sessions SET revoked_at = now() WHERE member_id = $1 AND revoked_at IS NULL "
    "RETURNING token_hash, GREATEST(1, EXTRACT(EPOCH FROM expires_at - now()))::bigint";
constexpr const char* kInsertCommunity =
    "INSERT INTO communities (id, name, policy) VALUES ($1, $2, $3::jsonb)";
constexpr const char* kFindCommunity =
    "SELECT id, name, policy::text FROM communities WHERE id = $1";
constexpr const char* kLockCommunity =
    "SELECT id, name, policy::text FROM communities WHERE id = $1 FOR UPDATE";
constexpr const char* kUpdateCommunity =
    "UPDATE communities SET name = $2, policy = $3::jsonb WHERE id = $1";
constexpr const char* kUpdateSite =
    "UPDATE sites SET name = $2, kind = $3, lat = $4, lon = $5, address = $6, opening_hours = $7 "
    "WHERE id = $1";
constexpr const char* kInsertSite =
    "INSERT INTO sites (id, community_id, name, kind, lat, lon, address, opening_hours) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr const char* kSiteColumns =
    "SELECT id, community_id, name, kind, lat, lon, address, opening_hours FROM sites ";
constexpr const char* kAddStaff =
    "INSERT INTO site_staff (site_id, member_id, added_by) VALUES ($1, $2, $3::uuid) "
    "ON CONFLICT DO NOTHING";
constexpr const char* kAudit =
    "INSERT INTO audit_log (actor_id, subject_id, action, details) VALUES ($1::uuid, $2::uuid, $3, "
    "$4::jsonb)";
constexpr const char* kAuditJson =
    "SELECT COALESCE(json_agg(json_build_object('at', at, 'action', action, 'actor_id', actor_id, "
    "'details', details) ORDER BY id), '[]'::json)::text FROM audit_log WHERE subject_id = $1";
constexpr const char* kCountExchange =
    "UPDATE members SET exchanges_completed = exchanges_completed + $2, "
    "exchanges_abandoned = exchanges_abandoned + $3 WHERE id = $1";
constexpr const char* kRecordRating =
    "UPDATE members SET rating_sum = rating_sum + $2, rating_count = rating_count + 1 "
    "WHERE id = $1";
constexpr const char* kCountNoShow = "UPDATE members SET no_shows = no_shows + 1 WHERE id = $1";

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
  auto r = tx.exec_params(std::string("SELECT ") + kMemberColumns +
                              " FROM members m WHERE m.id = $1 AND m.erased_at IS NULL",
                          id);
  if (r.empty()) return std::nullopt;
  return to_member(r[0]);
}

std::optional<MemberRow> find_member_by_email(pqxx::work& tx, const std::string& email) {
  auto r =
      tx.exec_params(std::string("SELECT ") + kMemberColumns +
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
  auto r = tx.exec_params(kInsertMember, id, community, in.email, password_hash, in.display_name,
                          opt(in.home_site_id), lat, lon, is_admin);
  return r.affected_rows() == 1;
}

void update_profile(pqxx::work& tx, const std::string& id, const ProfilePatch& p) {
  std::optional<double> lat, lon;
  if (p.location) {
    lat = p.location->lat;
    lon = p.location->lon;
  }
  tx.exec_params(kUpdateProfile, id, p.display_name, p.home_site_id, lat, lon);
}

void erase_member(pqxx::work& tx, const std::string& id) {
  tx.exec_params(kEraseMember, id);
}

void insert_session(pqxx::work& tx, const std::string& hash, const std::string& member_id,
                    int hours) {
  tx.exec_params(kInsertSession, hash, member_id, hours);
}

long long revoke_session(pqxx::work& tx, const std::string& hash) {
  auto r = tx.exec_params(kRevokeSession, hash);
  return r.empty() ? 0 : r[0][0].as<long long>();
}

std::vector<std::string> live_session_hashes(pqxx::work& tx, const std::string& member_id) {
  std::vector<std::string> out;
  for (const auto& row : tx.exec_params(kLiveSessions, member_id)) out.emplace_back(row[0].c_str());
  return out;
}

std::vector<std::pair<std::string, long long>> revoke_all_sessions(pqxx::work& tx,
                                                                   const std::string& member_id) {
  std::vector<std::pair<std::string, long long>> out;
  for (const auto& row : tx.exec_params(kRevokeAll, member_id))
    out.emplace_back(row[0].c_str(), row[1].as<long long>());
  return out;
}

void insert_community(pqxx::work& tx, const std::string& id, const std::string& name,
                      const std::string& policy_json) {
  tx.exec_params(kInsertCommunity, id, name, policy_json);
}

std::optional<CommunityRow> lock_community(pqxx::work& tx, const std::string& id) {
  auto r = tx.exec_params(kLockCommunity, id);
  if (r.empty()) return std::nullopt;
  return CommunityRow{r[0][0].c_str(), r[0][1].c_str(), r[0][2].c_str()};
}

void update_community(pqxx::work& tx, const CommunityRow& c) {
  tx.exec_params(kUpdateCommunity, c.id, c.name, c.policy_json);
}

std::optional<SiteRow> lock_site(pqxx::work& tx, const std::string& id) {
  auto r = tx.exec_params(std::string(kSiteColumns) + "WHERE id = $1 FOR UPDATE", id);
  if (r.empty()) return std::nullopt;
  return to_site(r[0]);
}

void update_site(pqxx::work& tx, const SiteRow& s) {
  tx.exec_params(kUpdateSite, s.id, s.name, s.kind, s.location.lat, s.location.lon, s.address,
                 s.opening_hours);
}

std::optional<CommunityRow> find_community(pqxx::work& tx, const std::string& id) {
  auto r = tx.exec_params(kFindCommunity, id);
  if (r.empty()) return std::nullopt;
  return CommunityRow{r[0][0].c_str(), r[0][1].c_str(), r[0][2].c_str()};
}

void insert_site(pqxx::work& tx, const std::string& id, const SiteInput& in) {
  tx.exec_params(kInsertSite, id, in.community_id, in.name, in.kind, in.location.lat,
                 in.location.lon, in.address, in.opening_hours);
}

std::optional<SiteRow> find_site(pqxx::work& tx, const std::string& id) {
  auto r = tx.exec_params(std::string(kSiteColumns) + "WHERE id = $1", id);
  if (r.empty()) return std::nullopt;
  return to_site(r[0]);
}

std::vector<SiteRow> list_sites(pqxx::work& tx, const std::optional<std::string>& community_id,
                                const std::string& after_id, int limit) {
  auto r = tx.exec_params(
      std::string(kSiteColumns) +
          "WHERE ($1::uuid IS NULL OR community_id = $1::uuid) AND id > $2::uuid "
          "ORDER BY id LIMIT $3",
      community_id, after_id.empty() ? "00000000-0000-0000-0000-000000000000" : after_id, limit);
  std::vector<SiteRow> out;
  for (const auto& row : r) out.push_back(to_site(row));
  return out;
}

bool add_staff(pqxx::work& tx, const std::string& site_id, const std::string& member_id,
               const std::string& added_by) {
  return tx.exec_params(kAddStaff, site_id, member_id, opt(added_by)).affected_rows() == 1;
}

void audit(pqxx::work& tx, const std::string& actor_id, const std::string& subject_id,
           const std::string& action, const std::string& details_json) {
  tx.exec_params(kAudit, opt(actor_id), opt(subject_id), action, details_json);
}

std::string audit_json(pqxx::work& tx, const std::string& subject_id) {
  return tx.exec_params(kAuditJson, subject_id)[0][0].c_str();
}

void count_exchange(pqxx::work& tx, const std::string& member_id, bool completed) {
  tx.exec_params(kCountExchange, member_id, completed ? 1 : 0, completed ? 0 : 1);
}

void record_rating(pqxx::work& tx, const std::string& member_id, int64_t stars) {
  tx.exec_params(kRecordRating, member_id, stars);
}

void count_no_show(pqxx::work& tx, const std::string& member_id) {
  tx.exec_params(kCountNoShow, member_id);
}

}  // namespace maillon::members::repo
