// The ledger's words: one row per result code (the domain's LedgerOutcome and the use cases'
// LedgerRefusal) with its HTTP status, problem type and French text. The only place the ledger's
// answers are put into words.
#pragma once

#include <span>
#include <string_view>

#include "exchange/ledger.hpp"
#include "services/common/problems.hpp"
#include "services/ledger/usecases.hpp"

namespace maillon::ledger {

std::span<const MessageRow<LedgerOutcome>> outcome_messages();
std::span<const MessageRow<LedgerRefusal>> refusal_messages();

// The problem a refusal (or a ledger outcome other than ok and exists) answers.
ApiError problem(LedgerOutcome outcome);
ApiError problem(LedgerRefusal refusal);
// The text of a refusal alone, for a field error among others of the same body.
std::string_view message(LedgerRefusal refusal);

}  // namespace maillon::ledger
