// The listing service's words (offers and requests): one row per result code, read only by the
// handlers. A second language is a second column here, nowhere else.
#pragma once

#include <span>
#include <string>

#include "services/common/problems.hpp"
#include "services/offers/usecases.hpp"

namespace maillon::listings {

std::span<const MessageRow<ListingCode>> message_table();

// The problem a refusal answers. `errors`: the field errors of a 400 that lists several;
// `status`: the listing's status, named by status_conflict's sentence.
ApiError problem(ListingCode code, FieldErrors errors = {}, const std::string& status = {});

// The field error a query-string code stands for ({field, message}).
FieldError field_error(ListingCode code);

// The value of a use case's outcome, or its refusal thrown as the problem it answers.
template <class T>
T settled(ListingOutcome<T>&& outcome) {
  if (!outcome.ok()) throw problem(outcome.code, std::move(outcome.errors), outcome.status);
  return std::move(outcome.value);
}

inline void admit(ListingCode code) {
  if (code != ListingCode::ok) throw problem(code);
}

}  // namespace maillon::listings
