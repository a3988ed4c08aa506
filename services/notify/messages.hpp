// The notify service's words: one row per refusal with its HTTP status, problem type and French
// text. The only place the service's answers are put into words.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "services/common/problems.hpp"

namespace maillon::notify {

enum class NotifyRefusal {
  notification_parameter,  // a notifications query parameter that is not a positive integer
  access_token_in_url,     // the stream's old ?access_token=
  stream_ticket_invalid,
  kinds_missing,         // PUT /v1/me/preferences without `kinds`
  kind_unknown,          // a kind the contract does not name
  email_choice_invalid,  // not instant, digest or off
  in_app_invalid,        // not a boolean
  unsubscribe_token_unknown,
};

// The words of the notices notify writes of its own: a federation link's daily reconciliation
// that found `differences` on `day` (YYYY-MM-DD) with the partner installation.
std::string reconciliation_subject();
std::string reconciliation_paragraph(int64_t differences, const std::string& day);

std::span<const MessageRow<NotifyRefusal>> refusal_messages();
ApiError problem(NotifyRefusal refusal);
// A 400 row's text put on another field (named at run time: a query parameter, a kind).
ApiError problem_on_field(NotifyRefusal refusal, std::string field);

}  // namespace maillon::notify
