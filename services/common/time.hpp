// RFC 3339 times at the API edge: the one parser and formatter every service uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace maillon {

// Unix seconds of an RFC 3339 date-time with a zone ("Z" or "+hh:mm"); fractions are dropped.
// nullopt when malformed, before 1970 or not a real calendar date.
std::optional<int64_t> parse_rfc3339_s(std::string_view text);
// "YYYY-MM-DDThh:mm:ssZ" in UTC.
std::string format_rfc3339(int64_t unix_s);
// "YYYY-MM-DDThh:mm:ss.ffffffZ" in UTC with the first `fraction_digits` (1 to 6) of the second.
std::string format_rfc3339_us(int64_t unix_us, int fraction_digits = 6);

}  // namespace maillon
