// A member's private calendar feed as RFC 5545 iCalendar text: one VEVENT per dated exchange
// (a loan from its start to its due date, another exchange at its agreed time).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {

// Content lines: escaped (RFC 5545 3.3.11), folded at 75 octets without splitting a UTF-8
// character (3.1), each ended by CRLF.
std::string ical_escape(std::string_view text);
std::string ical_fold(std::string_view line);

// The whole VCALENDAR for `member_id`; `now_s` stamps every event (DTSTAMP).
std::string calendar_ics(const std::string& member_id, const std::vector<ExchangeRecord>& records,
                         int64_t now_s);

}  // namespace maillon::exchange
