// Members lifecycle and moderation: approval, suspension, reports, staff and community
// administrators, members registered at the desk, and the other services' part of the RGPD
// export and erasure. Routes in http_moderation.cpp; hooks the core routes call are below.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

namespace maillon {
class Service;
}

namespace maillon::members {

inline constexpr std::size_t kReasonMax = 1000;
inline constexpr int kReportsPerDayMax = 20;

struct ReportInput {
  std::string target;  // offer, request, member or exchange_message
  std::string target_id;
  std::string reason;
};

struct CloseReportInput {
  std::string action;  // none, hide or suspend
  std::optional<std::string> note;
};

struct DeskMemberInput {
  std::string display_name;
  std::string home_site_id;
  std::optional<std::string> phone;  // digits, with a leading + when given one
};

// Bodies → inputs; each throws a 400 naming every bad field (no I/O: fuzzable).
std::string parse_suspension(std::string_view body);  // the reason
ReportInput parse_report(std::string_view body);
CloseReportInput parse_close_report(std::string_view body);
DeskMemberInput parse_desk_member(std::string_view body);

// Routes of http_moderation.cpp.
void register_moderation(Service& service);

// Hooks for the core routes (http_members.cpp), each inside the route's transaction:
// login: 403 `suspended` while the member is suspended (share-locks the member, so a suspension
// being written is either seen here or revokes the session about to be opened).
void refuse_suspended_login(pqxx::work& tx, const std::string& member_id);
// The member's status (active, pending, suspended) for profiles and member.registered.
std::string member_status(pqxx::work& tx, const std::string& member_id);
// GET /v1/me/export: each service's member_export(member) under its name, the reports filed.
void add_service_exports(pqxx::work& tx, const std::string& member_id, nlohmann::json& body);
// DELETE /v1/me: 409 `open-loan` while the member holds a lent object; the texts of the reports
// they filed are erased with them.
void before_erasure(pqxx::work& tx, const std::string& member_id);

}  // namespace maillon::members
