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

// problem(code) for a refusal or a ledger outcome other than ok and exists, message(code) for a
// field error among others: problems.hpp's, from the tables below.
using maillon::message;
using maillon::problem;

}  // namespace maillon::ledger

namespace maillon {
template <>
struct MessageTable<LedgerOutcome> {
  static std::span<const MessageRow<LedgerOutcome>> rows();
};
template <>
struct MessageTable<ledger::LedgerRefusal> {
  static std::span<const MessageRow<ledger::LedgerRefusal>> rows();
};
}  // namespace maillon
