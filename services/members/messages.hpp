// The members service's words: one row per result code (status, problem type, French sentence),
// read only by the handlers. A second language is a second column here, nowhere else.
#pragma once

#include <span>
#include <string>

#include "services/common/problems.hpp"
#include "services/members/usecases.hpp"

namespace maillon::members {

std::span<const MessageRow<MembersCode>> message_table();

// The problem a refusal answers (a 429 says when to try again).
ApiError problem(MembersCode code, int retry_after_seconds = 0);

// The value of a use case's outcome, or its refusal thrown as the problem it answers.
template <class T>
T settled(Outcome<T>&& outcome) {
  if (!outcome.ok()) throw problem(outcome.code, outcome.retry_after_seconds);
  return std::move(outcome.value);
}

// Throws the problem of a refused admission check.
inline void admit(MembersCode code) {
  if (code != MembersCode::ok) throw problem(code);
}

// Words that are data rather than refusals.
std::string default_suspension_reason(const std::string& report_id);  // "Signalement <id>"
extern const char* const kAdminDisplayName;                           // the first administrator

}  // namespace maillon::members
