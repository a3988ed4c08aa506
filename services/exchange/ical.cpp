// The iCalendar feed (see ical.hpp). Texts are French, times UTC ("Z" form, RFC 5545 3.3.5).
#include "services/exchange/ical.hpp"

#include <ctime>

#include "services/common/time.hpp"

namespace maillon::exchange {
namespace {

constexpr size_t kFoldOctets = 75;
constexpr int64_t kMeetingS = 3600;  // an exchange at an agreed time takes an hour

std::string ical_time(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[20];
  std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

std::string summary_of(const Exchange& ex, const std::string& member_id) {
  const bool provider = ex.provider_id == member_id;
  switch (ex.mode) {
    case ListingMode::lend:
      return provider ? "Prêt d'un objet (vous prêtez)" : "Emprunt d'un objet";
    case ListingMode::swap:
      return "Troc";
    case ListingMode::service:
      return provider ? "Service rendu" : "Service reçu";
    case ListingMode::give:
      return provider ? "Don (vous donnez)" : "Don (vous recevez)";
  }
  return "Échange";
}

std::string status_of(ExchangeState state) {
  switch (state) {
    case ExchangeState::proposed:
      return "TENTATIVE";
    case ExchangeState::cancelled:
    case ExchangeState::declined:
    case ExchangeState::expired:
      return "CANCELLED";
    default:
      return "CONFIRMED";
  }
}

void line(std::string& out, std::string_view name, std::string_view value) {
  std::string content(name);
  content += ':';
  content += value;
  out += ical_fold(content);
}

void event(std::string& out, const ExchangeRecord& record, const std::string& member_id,
           int64_t now_s) {
  const Exchange& ex = record.exchange;
  int64_t start = ex.starts_at_s, end = ex.due_at_s;
  if (start == 0 && record.scheduled_at) {
    start = parse_rfc3339_s(*record.scheduled_at).value_or(0);
    end = start + kMeetingS;
  }
  if (start == 0 || end <= start) return;  // nothing to put in a calendar
  out += "BEGIN:VEVENT\r\n";
  line(out, "UID", "exchange-" + ex.id + "@maillon");
  line(out, "DTSTAMP", ical_time(now_s));
  line(out, "DTSTART", ical_time(start));
  line(out, "DTEND", ical_time(end));
  line(out, "SUMMARY", ical_escape(summary_of(ex, member_id)));
  std::string description = "État : " + std::string(to_string(ex.state));
  if (ex.deposit_minutes > 0) {
    description += "\nCaution : " + std::to_string(ex.deposit_minutes) + " min";
  }
  if (record.message) description += "\n" + *record.message;
  line(out, "DESCRIPTION", ical_escape(description));
  line(out, "STATUS", status_of(ex.state));
  out += "END:VEVENT\r\n";
}

}  // namespace

std::string ical_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        break;  // a CRLF in a text becomes one escaped newline
      default:
        // Other control characters are not allowed in a TEXT value (RFC 5545 3.3.11).
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

std::string ical_fold(std::string_view line) {
  std::string out;
  size_t budget = kFoldOctets;  // the first line holds 75 octets, the next 74 after the space
  size_t used = 0;
  for (size_t i = 0; i < line.size();) {
    size_t len = 1;
    while (i + len < line.size() && is_continuation(static_cast<unsigned char>(line[i + len]))) {
      ++len;
    }
    if (used + len > budget) {
      out += "\r\n ";
      budget = kFoldOctets - 1;
      used = 0;
    }
    out.append(line.substr(i, len));
    used += len;
    i += len;
  }
  out += "\r\n";
  return out;
}

std::string calendar_ics(const std::string& member_id, const std::vector<ExchangeRecord>& records,
                         int64_t now_s) {
  std::string out = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n";
  out += ical_fold("PRODID:-//Maillon//Calendrier des échanges//FR");
  out += "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n";
  out += ical_fold("X-WR-CALNAME:Maillon");
  for (const ExchangeRecord& record : records) event(out, record, member_id, now_s);
  out += "END:VCALENDAR\r\n";
  return out;
}

}  // namespace maillon::exchange
