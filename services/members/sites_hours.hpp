// A site's opening hours: either a free text (what sites had before) or the structured form of
// the contract, {"weekly": {"mon": [["09:00","12:30"], ...], ...}, "exceptions": [{"date":
// "2026-12-25", "closed": true} | {"date": ..., "hours": [[...]]}]}, in Europe/Paris local time.
// Stored as its JSON text in the sites table (and the site events), shown as an object with
// `open_now` computed at the moment of the answer.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "exchange/validation.hpp"

namespace maillon::members {

inline constexpr std::size_t kOpeningHoursTextMax = 500;
inline constexpr std::size_t kRangesPerDayMax = 6;
inline constexpr std::size_t kExceptionsMax = 400;

// The value to store for a body's `opening_hours` (JSON text of the canonical structured form,
// or the free text), or nullopt for null; field errors are added to `errors`.
std::optional<std::string> read_opening_hours(const nlohmann::json& value, FieldErrors& errors);

// Europe/Paris time of a UTC instant (CET, CEST between the last Sundays of March and October
// at 01:00 UTC: the EU rule, written out because this libstdc++ has no time-zone database).
int64_t paris_offset_s(int64_t utc_s);

// Whether structured `hours` say open at `utc_s` (an exception of that local date wins over its
// weekday).
bool open_at(const nlohmann::json& hours, int64_t utc_s);

// A site as the API shows it: `opening_hours` an object when structured, and `open_now` (null
// when the hours are free text or absent).
void show_opening_hours(nlohmann::json& site, int64_t now_s);

}  // namespace maillon::members
