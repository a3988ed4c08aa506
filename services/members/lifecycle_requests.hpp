// The lifecycle and moderation endpoints' bodies as inputs, and their parsers (no I/O, so the
// fuzz target feeds them raw bytes).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace maillon::members {

inline constexpr std::size_t kReasonMax = 1000;

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

}  // namespace maillon::members
