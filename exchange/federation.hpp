// Federation rules without I/O: the rate between two communities' minutes, the clearing accounts
// that mirror each other across a link, the limits a link puts on them, and the comparison of two
// mirror accounts transfer by transfer (the audit's and the reconciliation's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/ledger.hpp"

namespace maillon {

// A rate is partner minutes per one of ours, kept in millionths so that the arithmetic stays in
// integers (money is an integer). Bounded so that a payment of kTransferMinutesMax converts
// without overflow and a rate cannot print or erase credits by orders of magnitude.
inline constexpr int64_t kRateMicroUnit = 1'000'000;              // a rate of 1 (1:1)
inline constexpr int64_t kRateMicroMin = 10'000;                  // 0.01
inline constexpr int64_t kRateMicroMax = 100'000'000;             // 100
inline constexpr int64_t kFederationLimitMinutesMax = 6'000'000;  // 100 000 h per direction
inline constexpr std::size_t kClearingLegsMax = 100'000;          // legs compared per side at most

// The partner minutes of `our_minutes` (>= 0): our_minutes x rate, rounded down. A payment of
// m of the payer's minutes credits partner_minutes(m, payer's rate) to the payee; posting part of
// a hold posts the conversion of that part. The partner's row holds inverse_rate_micro, so each
// direction converts with the payer's rate (documented in schemas/ledger/006_federation.sql).
// Rounded down both ways, with an inverse rate rounded down too, a payment across and back never
// gives more than it took: rounded half up, 1 minute at 1.5 was 2 there and came back as 1, and
// two members could mint a minute per round trip.
int64_t partner_minutes(int64_t our_minutes, int64_t rate_micro);
int64_t inverse_rate_micro(int64_t rate_micro);
// Whether `partner` is the conversion of `ours`: rounded down, or half up as legs were converted
// before (they reconcile still).
bool is_conversion(int64_t ours, int64_t partner, int64_t rate_micro);

// "clearing:<ours>:<partner>": the account of community `ours` that mirrors `partner`'s. Its
// balance > 0 means our members have paid more across than they received (the partner owes us).
std::string clearing_account_id(std::string_view ours, std::string_view partner);
bool is_clearing_account_id(std::string_view id);
// The partner community named by a clearing account id, or empty when it is not one.
std::string clearing_partner(std::string_view id);

// One side's limits, in that side's minutes.
struct ClearingLimits {
  int64_t debit_limit_minutes = 0;   // most our members may owe the partner (-balance)
  int64_t credit_limit_minutes = 0;  // most the partner may owe us (balance)
};
// Whether holding `amount_minutes` more across keeps the side within its limit, counting the
// holds already made in the same direction (opposite ones may still be voided: not counted).
// The payer's side: its clearing account is credited.
bool payer_side_within(const Account& clearing, const ClearingLimits& limits,
                       int64_t amount_minutes);
// The payee's side: its clearing account is debited.
bool payee_side_within(const Account& clearing, const ClearingLimits& limits,
                       int64_t amount_minutes);

// One transfer through a clearing account, as that side stored it.
struct ClearingLeg {
  TransferId id;
  bool paid_across = false;  // our members paid (the clearing account is the payee)
  TransferState state = TransferState::pending;
  int64_t amount_minutes = 0;
  int64_t posted_minutes = 0;
  bool operator==(const ClearingLeg&) const = default;
};
// One side of a link: its clearing account, its rate (partner minutes per one of its own) and
// the legs through it, in any order.
struct ClearingSide {
  AccountId account_id;
  int64_t rate_micro = kRateMicroUnit;
  std::vector<ClearingLeg> legs;
};

enum class MirrorDifferenceKind {
  missing_ours,    // the partner has a leg we do not
  missing_theirs,  // we have a leg the partner does not
  direction,       // both sides paid, or both received
  state,           // pending on one side, posted on the other...
  amount,          // the payee's leg is not the conversion of the payer's
};
std::string_view to_string(MirrorDifferenceKind kind);  // snake_case, for the JSON answers

struct MirrorDifference {
  TransferId transfer_id;
  MirrorDifferenceKind kind = MirrorDifferenceKind::amount;
  std::optional<ClearingLeg> ours;
  std::optional<ClearingLeg> theirs;
  bool operator==(const MirrorDifference&) const = default;
};

// Every way the two mirror accounts disagree, transfer by transfer, ordered by transfer id; at
// most `limit` of them. Two agreeing sides give none.
std::vector<MirrorDifference> compare_mirrors(const ClearingSide& ours, const ClearingSide& theirs,
                                              std::size_t limit = 1000);

}  // namespace maillon
