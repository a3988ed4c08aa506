// The exchange service's words: one row per result code (the workflow's ExchangeOutcome and the
// use cases' ExchangeRefusal) with its HTTP status, problem type and French text. The only place
// the service's answers are put into words.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "exchange/exchange_flow.hpp"
#include "services/common/problems.hpp"
#include "services/exchange/usecases.hpp"

namespace maillon::exchange {

std::span<const MessageRow<ExchangeOutcome>> outcome_messages();
std::span<const MessageRow<ExchangeRefusal>> refusal_messages();

// The problem a refusal (or a workflow outcome other than ok) answers.
ApiError problem(ExchangeOutcome outcome);
ApiError problem(ExchangeRefusal refusal);
// A refusal whose field errors come from the domain (proposal_invalid, rating_invalid).
ApiError problem(ExchangeRefusal refusal, FieldErrors errors);
// A 400 row's text put on another field (a query parameter named at run time).
ApiError problem_on_field(ExchangeRefusal refusal, std::string field);
// The text of a refusal alone, for a field error among others of the same body.
std::string message(ExchangeRefusal refusal);

}  // namespace maillon::exchange
