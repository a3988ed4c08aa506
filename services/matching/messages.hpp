// The matching service's words: one row per result code, read only by the handlers. A second
// language is a second column here, nowhere else.
#pragma once

#include <span>
#include <string>

#include "services/common/problems.hpp"
#include "services/matching/usecases.hpp"

namespace maillon::matching_service {

std::span<const MessageRow<MatchingCode>> message_table();

// The problem a refusal answers; `errors`: the field errors of invalid_parameters.
ApiError problem(MatchingCode code, FieldErrors errors = {});

// The field error a query-string code stands for ({field, message}).
FieldError field_error(MatchingCode code);
// number_out_of_range for `field`, naming its bounds.
FieldError number_out_of_range(const std::string& field, int low, int high);

template <class T>
T settled(MatchingOutcome<T>&& outcome) {
  if (!outcome.ok()) throw problem(outcome.code);
  return std::move(outcome.value);
}

}  // namespace maillon::matching_service
