// The ledger's enums as the strings clients, events and SQL columns use, and back.
#include <array>
#include <utility>

#include "exchange/ledger.hpp"

namespace maillon {
namespace {

constexpr std::array<std::pair<TransferKind, std::string_view>, 7> kKindNames{{
    {TransferKind::exchange, "exchange"},
    {TransferKind::bonus, "bonus"},
    {TransferKind::allowance, "allowance"},
    {TransferKind::deposit_reward, "deposit_reward"},
    {TransferKind::loan, "loan"},
    {TransferKind::manual, "manual"},
    {TransferKind::correction, "correction"},
}};

constexpr std::array<std::pair<TransferState, std::string_view>, 4> kStateNames{{
    {TransferState::pending, "pending"},
    {TransferState::posted, "posted"},
    {TransferState::voided, "voided"},
    {TransferState::expired, "expired"},
}};

// Kebab-case because these slugs end up in problem+json types and rejection reasons.
constexpr std::array<std::pair<LedgerOutcome, std::string_view>, 17> kOutcomeNames{{
    {LedgerOutcome::ok, "ok"},
    {LedgerOutcome::exists, "exists"},
    {LedgerOutcome::exists_with_different_body, "exists-with-different-body"},
    {LedgerOutcome::invalid_id, "invalid-id"},
    {LedgerOutcome::invalid_amount, "invalid-amount"},
    {LedgerOutcome::invalid_timeout, "invalid-timeout"},
    {LedgerOutcome::invalid_memo, "invalid-memo"},
    {LedgerOutcome::invalid_ref, "invalid-ref"},
    {LedgerOutcome::same_account, "same-account"},
    {LedgerOutcome::account_not_found, "account-not-found"},
    {LedgerOutcome::insufficient_credits, "insufficient-credits"},
    {LedgerOutcome::balance_cap, "balance-cap"},
    {LedgerOutcome::not_found, "not-found"},
    {LedgerOutcome::already_posted, "already-posted"},
    {LedgerOutcome::already_voided, "already-voided"},
    {LedgerOutcome::expired, "expired"},
    {LedgerOutcome::exceeds_pending, "exceeds-pending"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                         Enum value) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "unknown";
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                             std::string_view text) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(TransferKind kind) {
  return name_of(kKindNames, kind);
}

std::optional<TransferKind> transfer_kind_from_string(std::string_view text) {
  return value_of(kKindNames, text);
}

std::string_view to_string(TransferState state) {
  return name_of(kStateNames, state);
}

std::optional<TransferState> transfer_state_from_string(std::string_view text) {
  return value_of(kStateNames, text);
}

std::string_view to_string(LedgerOutcome outcome) {
  return name_of(kOutcomeNames, outcome);
}

bool is_accepted(LedgerOutcome outcome) {
  return outcome == LedgerOutcome::ok || outcome == LedgerOutcome::exists;
}

}  // namespace maillon
