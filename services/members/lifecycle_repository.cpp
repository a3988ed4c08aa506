// SQL of the members lifecycle, one named statement per action.
#include "services/members/lifecycle_repository.hpp"

#include <array>
#include <string_view>

#include "services/common/db.hpp"
#include "services/members/lifecycle_repository_sql.hpp"

namespace maillon::members::lifecycle_repo {
namespace {

// The other services' published interfaces (schemas/*/: SECURITY DEFINER functions). Their
// names are fixed here, never built from input.
struct PublishedExport {
  std::string_view schema;
  const char* exists;
  const char* call;
};
constexpr std::array<PublishedExport, 7> kExports = {{
    {"offers", "SELECT to_regprocedure('offers.member_export(uuid)') IS NOT NULL",
     "SELECT offers.member_export($1::uuid)::text"},
    {"requests", "SELECT to_regprocedure('requests.member_export(uuid)') IS NOT NULL",
     "SELECT requests.member_export($1::uuid)::text"},
    {"exchange", "SELECT to_regprocedure('exchange.member_export(uuid)') IS NOT NULL",
     "SELECT exchange.member_export($1::uuid)::text"},
    {"ledger", "SELECT to_regprocedure('ledger.member_export(uuid)') IS NOT NULL",
     "SELECT ledger.member_export($1::uuid)::text"},
    {"depot", "SELECT to_regprocedure('depot.member_export(uuid)') IS NOT NULL",
     "SELECT depot.member_export($1::uuid)::text"},
    {"notify", "SELECT to_regprocedure('notify.member_export(uuid)') IS NOT NULL",
     "SELECT notify.member_export($1::uuid)::text"},
    {"media", "SELECT to_regprocedure('media.member_export(uuid)') IS NOT NULL",
     "SELECT media.member_export($1::uuid)::text"},
}};

std::optional<std::string> opt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::string first_page(const std::string& after_id) {
  return after_id.empty() ? "00000000-0000-0000-0000-000000000000" : after_id;
}

MemberSummary to_summary(const pqxx::row& r) {
  return MemberSummary{r[0].c_str(),         r[1].c_str(), r[2].c_str(), r[3].c_str(),
                       r[4].as<long long>(), r[5].c_str(), r[6].c_str(), r[7].c_str()};
}

Report to_report(const pqxx::row& r) {
  return Report{r[0].c_str(), r[1].c_str(), r[2].c_str(),  r[3].c_str(),
                r[4].c_str(), r[5].c_str(), r[6].c_str(),  r[7].c_str(),
                r[8].c_str(), r[9].c_str(), r[10].c_str(), r[11].c_str()};
}

// "%words%" for ILIKE, with LIKE's own wildcards typed by the user taken literally.
std::string contains_pattern(const std::string& query) {
  std::string out = "%";
  for (char c : query) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

std::string digits_of(const std::string& query) {
  std::string out;
  for (char c : query) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

std::optional<long long> member_number_in(const std::string& query) {
  if (query.empty() || query.size() > 9) return std::nullopt;
  for (char c : query) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(query);
}

bool function_exists(pqxx::work& tx, const char* sql) {
  return tx.exec(sql)[0][0].as<bool>();
}

}  // namespace

std::optional<MemberState> lock_member(pqxx::work& tx, const std::string& member_id) {
  auto r = exec_cached(tx, kLockMember, member_id);
  if (r.empty()) return std::nullopt;
  const auto& row = r[0];
  MemberState s;
  s.facts = TargetFacts{row[0].c_str(),    row[1].c_str(),    row[2].c_str(),
                        row[3].as<bool>(), row[4].as<bool>(), row[5].as<bool>()};
  s.status = row[6].c_str();
  s.status_before_suspension = row[7].c_str();
  return s;
}

std::optional<std::string> status_for_login(pqxx::work& tx, const std::string& member_id) {
  auto r = exec_cached(tx, kStatusForLogin, member_id);
  if (r.empty()) return std::nullopt;
  return std::string(r[0][0].c_str());
}

void set_status(pqxx::work& tx, const std::string& member_id, const std::string& status,
                const std::string& status_before_suspension, const std::string& reason) {
  exec_cached(tx, kSetStatus, member_id, status, opt(status_before_suspension), opt(reason));
}

std::vector<Authenticator::EndedSession> revoke_sessions(pqxx::work& tx,
                                                         const std::string& member_id) {
  std::vector<Authenticator::EndedSession> out;
  for (const auto& row : exec_cached(tx, kRevokeSessions, member_id))
    out.push_back({row[0].c_str(), row[1].as<long long>()});
  return out;
}

bool remove_staff(pqxx::work& tx, const std::string& site_id, const std::string& member_id) {
  return exec_cached(tx, kRemoveStaff, site_id, member_id).affected_rows() == 1;
}

bool add_community_admin(pqxx::work& tx, const std::string& community_id,
                         const std::string& member_id, const std::string& added_by) {
  return exec_cached(tx, kAddCommunityAdmin, community_id, member_id, added_by).affected_rows() ==
         1;
}

bool remove_community_admin(pqxx::work& tx, const std::string& community_id,
                            const std::string& member_id) {
  return exec_cached(tx, kRemoveCommunityAdmin, community_id, member_id).affected_rows() == 1;
}

long long desk_registrations_today(pqxx::work& tx, const std::string& staff_id) {
  exec_cached(tx, kLockDailyQuota, "desk-registrar", staff_id);
  return exec_cached(tx, kDeskRegistrationsToday, staff_id)[0][0].as<long long>();
}

long long insert_desk_member(pqxx::work& tx, const std::string& id, const std::string& community_id,
                             const std::string& home_site_id, const std::string& display_name,
                             const std::optional<std::string>& phone,
                             const std::string& registered_by) {
  auto r = exec_cached(tx, kInsertDeskMember, id, community_id, display_name, home_site_id, phone,
                       registered_by);
  return r[0][0].as<long long>();
}

std::optional<MemberSummary> find_summary(pqxx::work& tx, const std::string& member_id) {
  auto r = exec_cached(tx, std::string(kSummaryColumns) + kFindSummary, member_id);
  if (r.empty()) return std::nullopt;
  return to_summary(r[0]);
}

std::vector<MemberSummary> search_members(pqxx::work& tx, const SearchScope& scope,
                                          const std::string& query, const std::string& after_id,
                                          int limit) {
  auto r = exec_cached(tx, std::string(kSummaryColumns) + kSearchWhere, scope.everyone,
                       array_literal(scope.community_ids), array_literal(scope.site_ids),
                       contains_pattern(query),
                       digits_of(query).size() >= 4 ? digits_of(query) : std::string(),
                       member_number_in(query), first_page(after_id), limit);
  std::vector<MemberSummary> out;
  for (const auto& row : r) out.push_back(to_summary(row));
  return out;
}

ReportFiled insert_report(pqxx::work& tx, const NewReport& n, int per_day_max) {
  exec_cached(tx, kLockDailyQuota, "report", n.reporter_id);
  if (exec_cached(tx, kReportsToday, n.reporter_id)[0][0].as<long long>() >= per_day_max)
    return ReportFiled::over_limit;
  auto r = exec_cached(tx, kInsertReport, n.id, n.community_id, n.site_id, n.reporter_id,
                       opt(n.acting_staff_id), n.target, n.target_id, opt(n.reported_member_id),
                       n.reason);
  return r.affected_rows() == 1 ? ReportFiled::filed : ReportFiled::duplicate;
}

std::optional<Report> find_report(pqxx::work& tx, const std::string& report_id) {
  auto r = exec_cached(tx, std::string(kReportColumns) + kFindReport, report_id);
  if (r.empty()) return std::nullopt;
  return to_report(r[0]);
}

std::vector<Report> open_reports(pqxx::work& tx, const std::string& site_id,
                                 const std::string& after_id, int limit) {
  std::vector<Report> out;
  for (const auto& row : exec_cached(tx, std::string(kReportColumns) + kOpenReports, site_id,
                                     first_page(after_id), limit))
    out.push_back(to_report(row));
  return out;
}

bool close_report(pqxx::work& tx, const std::string& report_id, const std::string& action,
                  const std::optional<std::string>& note, const std::string& closed_by) {
  return exec_cached(tx, kCloseReport, report_id, action, note, closed_by).affected_rows() == 1;
}

std::string reports_filed_json(pqxx::work& tx, const std::string& member_id) {
  return exec_cached(tx, kReportsFiledJson, member_id)[0][0].c_str();
}

void forget_report_texts(pqxx::work& tx, const std::string& member_id) {
  exec_cached(tx, kForgetReportTexts, member_id);
}

std::optional<std::string> service_export(pqxx::work& tx, const std::string& schema,
                                          const std::string& member_id) {
  for (const auto& e : kExports) {
    if (e.schema != schema) continue;
    if (!function_exists(tx, e.exists)) return std::nullopt;
    auto r = exec_cached(tx, e.call, member_id);
    if (r.empty() || r[0][0].is_null()) return std::string("null");
    return std::string(r[0][0].c_str());
  }
  return std::nullopt;
}

long long open_loans(pqxx::work& tx, const std::string& member_id) {
  if (!function_exists(tx, kOpenLoansExists)) return 0;
  return exec_cached(tx, kOpenLoans, member_id)[0][0].as<long long>();
}

}  // namespace maillon::members::lifecycle_repo
