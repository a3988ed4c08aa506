// The ledger's enums as the strings clients, events and SQL columns use, and back.
#include "exchange/enum_names.hpp"
#include "exchange/ledger.hpp"

namespace maillon {
namespace {

constexpr EnumName<TransferKind> kKindNames[] = {
    {TransferKind::exchange, "exchange"},
    {TransferKind::bonus, "bonus"},
    {TransferKind::allowance, "allowance"},
    {TransferKind::deposit_reward, "deposit_reward"},
    {TransferKind::loan, "loan"},
    {TransferKind::manual, "manual"},
    {TransferKind::correction, "correction"},
};

constexpr EnumName<TransferState> kStateNames[] = {
    {TransferState::pending, "pending"},
    {TransferState::posted, "posted"},
    {TransferState::voided, "voided"},
    {TransferState::expired, "expired"},
};

// Kebab-case because these slugs end up in problem+json types and rejection reasons.
constexpr EnumName<LedgerOutcome> kOutcomeNames[] = {
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
};

// Every value has its name: "unknown" only for a value outside the enum.
template <class E, std::size_t N>
std::string_view name_or_unknown(const EnumName<E> (&names)[N], E value) {
  const std::string_view name = enum_name(names, value);
  return name.empty() ? "unknown" : name;
}

}  // namespace

std::string_view to_string(TransferKind kind) {
  return name_or_unknown(kKindNames, kind);
}

std::optional<TransferKind> transfer_kind_from_string(std::string_view text) {
  return enum_from_name(kKindNames, text);
}

std::string_view to_string(TransferState state) {
  return name_or_unknown(kStateNames, state);
}

std::optional<TransferState> transfer_state_from_string(std::string_view text) {
  return enum_from_name(kStateNames, text);
}

std::string_view to_string(LedgerOutcome outcome) {
  return name_or_unknown(kOutcomeNames, outcome);
}

bool is_accepted(LedgerOutcome outcome) {
  return outcome == LedgerOutcome::ok || outcome == LedgerOutcome::exists;
}

}  // namespace maillon
