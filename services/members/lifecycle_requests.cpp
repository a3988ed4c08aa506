// Parsing and validation of the lifecycle and moderation endpoints' bodies.
#include "services/members/lifecycle_requests.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "services/common/json_body.hpp"
#include "services/members/members.hpp"

namespace maillon::members {
namespace {

constexpr std::size_t kNameMax = 80;
constexpr std::size_t kPhoneTypedMax = 32;
constexpr std::size_t kPhoneDigitsMin = 6;
constexpr std::size_t kPhoneDigitsMax = 15;  // E.164

std::string trimmed(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// A required free text, trimmed, that must not be blank.
std::string required_words(BodyReader& r, std::string_view field, std::size_t max) {
  std::string text = trimmed(r.required_text(field, max));
  if (r.has(field) && text.empty()) r.add_error(std::string(field), "ne doit pas être vide");
  return text;
}

// "06 12.34-56 78" → "0612345678"; "+33 6 …" keeps its +. Empty when it is not a phone number.
// `typed` is trimmed.
std::string normalised_phone(const std::string& typed) {
  std::string out;
  for (std::size_t i = 0; i < typed.size(); ++i) {
    const char c = typed[i];
    if (c >= '0' && c <= '9') {
      out += c;
    } else if (c == '+' && i == 0) {
      out += c;
    } else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')') {
      return "";
    }
  }
  const std::size_t digits = out.size() - (out.starts_with('+') ? 1 : 0);
  return digits >= kPhoneDigitsMin && digits <= kPhoneDigitsMax ? out : "";
}

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

std::string parse_suspension(std::string_view body) {
  return read_body(body, {"reason"},
                   [](BodyReader& r) { return required_words(r, "reason", kReasonMax); });
}

ReportInput parse_report(std::string_view body) {
  static constexpr std::array<std::string_view, 4> kTargets = {"offer", "request", "member",
                                                               "exchange_message"};
  return read_body(body, {"target", "target_id", "reason"},
                   {"id", "reporter_id", "site_id", "state"}, [](BodyReader& r) {
                     ReportInput in;
                     in.target = r.required_text("target", 32);
                     if (r.has("target") && !one_of(kTargets, in.target))
                       r.add_error("target",
                                   "doit être offer, request, member ou exchange_message");
                     in.target_id = r.required_uuid("target_id");
                     in.reason = required_words(r, "reason", kReasonMax);
                     return in;
                   });
}

CloseReportInput parse_close_report(std::string_view body) {
  static constexpr std::array<std::string_view, 3> kActions = {"none", "hide", "suspend"};
  return read_body(body, {"action", "note"}, [](BodyReader& r) {
    CloseReportInput in;
    in.action = r.required_text("action", 16);
    if (r.has("action") && !one_of(kActions, in.action))
      r.add_error("action", "doit être none, hide ou suspend");
    if (auto note = r.text("note", kReasonMax)) in.note = trimmed(*note);
    return in;
  });
}

DeskMemberInput parse_desk_member(std::string_view body) {
  return read_body(
      body, {"display_name", "home_site_id", "phone"},
      {"id", "email", "password", "community_id", "roles", "is_admin", "status", "member_number"},
      [](BodyReader& r) {
        DeskMemberInput in;
        in.display_name = required_words(r, "display_name", kNameMax);
        if (!one_line(in.display_name)) {
          r.add_error("display_name", kOneLineMessage);
        }
        in.home_site_id = r.required_uuid("home_site_id");
        if (auto typed = r.text("phone", kPhoneTypedMax); typed && !trimmed(*typed).empty()) {
          in.phone = normalised_phone(trimmed(*typed));
          if (in.phone->empty()) r.add_error("phone", "numéro de téléphone invalide");
        }
        return in;
      });
}

}  // namespace maillon::members
