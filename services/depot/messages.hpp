// The depot's words: one row per result code (the domain's DepotOutcome and the service's
// DepotRefusal) with its HTTP status, problem type and French text. The only place the depot's
// answers are put into words.
#pragma once

#include <span>
#include <string>

#include "exchange/depot.hpp"
#include "services/common/problems.hpp"

namespace maillon::depot {

// Why a route refused, beyond the domain's DepotOutcome. `none`: no refusal.
enum class DepotRefusal {
  none,
  not_found,               // no item (or site) under that id
  site_unknown,            // the site is not in the directory
  staff_only,              // reserved to the site's staff
  community_members_only,  // reserved to members of the site's community
  own_deposit,             // staff recording their own deposit (they would reward themselves)
  member_suspended,        // a suspended member reserving
  unknown_member,          // a member named by staff who is not of the community (field given)
  item_invalid,            // the domain refused the intake (its field errors say why)
  // Refusals of the input, found while reading it.
  status_unknown,        // ?status= names no status
  category_unknown,      // ?category= names no category
  cursor_invalid,        // a cursor this service did not give
  due_at_invalid,        // due_at not an RFC 3339 date
  condition_unknown,     // a return's condition
  outlet_unknown,        // a redirection's outlet
  day_invalid,           // a stats day not YYYY-MM-DD (field given)
  community_id_invalid,  // a stats community_id not a UUID
  site_id_invalid,       // a stats site_id neither a UUID nor "network"
  period_reversed,       // from after to
  stats_invalid,         // the summary of the stats parameters' errors
};
// The last code: the message table's test walks every code up to it (keep it last).
inline constexpr DepotRefusal kLastDepotRefusal = DepotRefusal::stats_invalid;

// problem(code), problem(code, errors) for item_invalid and stats_invalid, problem_on_field(code,
// field) for unknown_member and day_invalid, message(code): problems.hpp's, from the tables below.
using maillon::message;
using maillon::problem;
using maillon::problem_on_field;

}  // namespace maillon::depot

namespace maillon {
template <>
struct MessageTable<DepotOutcome> {
  static std::span<const MessageRow<DepotOutcome>> rows();
};
template <>
struct MessageTable<depot::DepotRefusal> {
  static std::span<const MessageRow<depot::DepotRefusal>> rows();
};
}  // namespace maillon
