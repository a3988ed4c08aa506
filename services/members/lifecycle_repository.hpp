// SQL of the members lifecycle: status changes, roles granted and removed, desk members, member
// search, reports, and the other services' published export and erasure checks.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "services/members/moderation_rules.hpp"

namespace maillon::members::lifecycle_repo {

struct MemberState {
  TargetFacts facts;
  std::string status;                    // active, pending or suspended
  std::string status_before_suspension;  // "" unless suspended
};

struct MemberSummary {
  std::string id;
  std::string display_name;
  std::string email;  // "" when none (registered at the desk)
  std::string phone;  // "" when none
  long long member_number = 0;
  std::string home_site_id;
  std::string community_id;
  std::string status;
};

struct SearchScope {
  bool everyone = false;                   // an admin
  std::vector<std::string> community_ids;  // communities administered
  std::vector<std::string> site_ids;       // sites served as staff (their home members)
};

struct Report {
  std::string id;
  std::string community_id;
  std::string site_id;
  std::string reporter_id;
  std::string target;
  std::string target_id;
  std::string reported_member_id;  // "" unless the target is a member
  std::string reason;
  std::string state;
  std::string action;  // "" while open
  std::string created_at;
  std::string acting_staff_id;  // "" unless staff filed it for the reporter
};

struct NewReport {
  std::string id;
  std::string community_id;
  std::string site_id;
  std::string reporter_id;
  std::string acting_staff_id;  // "" unless staff filed it for the reporter
  std::string target;
  std::string target_id;
  std::string reported_member_id;  // "" unless the target is a member
  std::string reason;
};

enum class ReportFiled { filed, duplicate, over_limit };

// Reads the member's state and locks their row until the transaction ends, so that a status
// change, a login and a session revocation never interleave.
std::optional<MemberState> lock_member(pqxx::work& tx, const std::string& member_id);
// The status a login must respect, share-locked against a suspension being written.
std::optional<std::string> status_for_login(pqxx::work& tx, const std::string& member_id);
void set_status(pqxx::work& tx, const std::string& member_id, const std::string& status,
                const std::string& status_before_suspension, const std::string& reason);
// Each with how long its tombstone must outlive any cached copy (Authenticator::end_sessions).
std::vector<Authenticator::EndedSession> revoke_sessions(pqxx::work& tx,
                                                         const std::string& member_id);

// Role rows; each returns whether a row was added or removed.
bool remove_staff(pqxx::work& tx, const std::string& site_id, const std::string& member_id);
bool add_community_admin(pqxx::work& tx, const std::string& community_id,
                         const std::string& member_id, const std::string& added_by);
bool remove_community_admin(pqxx::work& tx, const std::string& community_id,
                            const std::string& member_id);

// Members this staff member registered at the desk in the last 24 hours, counted under a lock
// held until the transaction ends (so that concurrent registrations cannot pass the cap together).
long long desk_registrations_today(pqxx::work& tx, const std::string& staff_id);
// A member registered by staff at the desk: active, no e-mail nor password. Returns their number.
long long insert_desk_member(pqxx::work& tx, const std::string& id, const std::string& community_id,
                             const std::string& home_site_id, const std::string& display_name,
                             const std::optional<std::string>& phone,
                             const std::string& registered_by);
std::optional<MemberSummary> find_summary(pqxx::work& tx, const std::string& member_id);
std::vector<MemberSummary> search_members(pqxx::work& tx, const SearchScope& scope,
                                          const std::string& query, const std::string& after_id,
                                          int limit);

ReportFiled insert_report(pqxx::work& tx, const NewReport& n, int per_day_max);
std::optional<Report> find_report(pqxx::work& tx, const std::string& report_id);
std::vector<Report> open_reports(pqxx::work& tx, const std::string& site_id,
                                 const std::string& after_id, int limit);
// Closes an open report; false when it was closed already (one statement settles the race).
bool close_report(pqxx::work& tx, const std::string& report_id, const std::string& action,
                  const std::optional<std::string>& note, const std::string& closed_by);
std::string reports_filed_json(pqxx::work& tx, const std::string& member_id);
void forget_report_texts(pqxx::work& tx, const std::string& member_id);

// <schema>.member_export(member) as JSON text, or nothing while that service publishes none.
std::optional<std::string> service_export(pqxx::work& tx, const std::string& schema,
                                          const std::string& member_id);
// depot.member_open_loans(member), 0 while the depot publishes no such function.
long long open_loans(pqxx::work& tx, const std::string& member_id);

}  // namespace maillon::members::lifecycle_repo
