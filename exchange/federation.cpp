// Federation rules: rates, clearing accounts, limits and the comparison of mirror accounts.
#include "exchange/federation.hpp"

#include <map>

#include "exchange/invariant.hpp"

namespace maillon {
namespace {

constexpr std::string_view kClearingPrefix = "clearing:";

// What the payee's leg must be, given the payer's leg and the payer's rate.
bool converts(const ClearingLeg& payer, const ClearingLeg& payee, int64_t payer_rate_micro) {
  return is_conversion(payer.amount_minutes, payee.amount_minutes, payer_rate_micro) &&
         is_conversion(payer.posted_minutes, payee.posted_minutes, payer_rate_micro);
}

std::optional<MirrorDifferenceKind> pair_difference(const ClearingLeg& ours,
                                                    const ClearingLeg& theirs,
                                                    int64_t our_rate_micro,
                                                    int64_t their_rate_micro) {
  if (ours.paid_across == theirs.paid_across) return MirrorDifferenceKind::direction;
  if (ours.state != theirs.state) return MirrorDifferenceKind::state;
  const bool agree = ours.paid_across ? converts(ours, theirs, our_rate_micro)
                                      : converts(theirs, ours, their_rate_micro);
  if (!agree) return MirrorDifferenceKind::amount;
  return std::nullopt;
}

}  // namespace

int64_t partner_minutes(int64_t our_minutes, int64_t rate_micro) {
  MAILLON_INVARIANT(our_minutes >= 0 && our_minutes <= kTransferMinutesMax * 1000,
                    "a converted amount is bounded");
  MAILLON_INVARIANT(rate_micro >= kRateMicroMin && rate_micro <= kRateMicroMax,
                    "a rate is bounded");
  return our_minutes * rate_micro / kRateMicroUnit;
}

int64_t inverse_rate_micro(int64_t rate_micro) {
  MAILLON_INVARIANT(rate_micro >= kRateMicroMin && rate_micro <= kRateMicroMax,
                    "a rate is bounded");
  constexpr int64_t kSquare = kRateMicroUnit * kRateMicroUnit;
  return kSquare / rate_micro;  // rate x inverse <= 1: nothing gained across and back
}

bool is_conversion(int64_t ours, int64_t partner, int64_t rate_micro) {
  if (ours == 0) return partner == 0;
  const int64_t down = partner_minutes(ours, rate_micro);
  return partner == down || partner == (ours * rate_micro + kRateMicroUnit / 2) / kRateMicroUnit;
}

std::string clearing_account_id(std::string_view ours, std::string_view partner) {
  std::string id(kClearingPrefix);
  id += ours;
  id += ':';
  id += partner;
  return id;
}

bool is_clearing_account_id(std::string_view id) {
  return id.starts_with(kClearingPrefix);
}

std::string clearing_partner(std::string_view id) {
  if (!is_clearing_account_id(id)) return {};
  const std::string_view rest = id.substr(kClearingPrefix.size());
  const auto colon = rest.find(':');
  return colon == std::string_view::npos ? std::string() : std::string(rest.substr(colon + 1));
}

bool payer_side_within(const Account& clearing, const ClearingLimits& limits,
                       int64_t amount_minutes) {
  const int64_t owed_to_us =
      clearing.balance_minutes + clearing.pending_credit_minutes + amount_minutes;
  return owed_to_us <= limits.credit_limit_minutes;
}

bool payee_side_within(const Account& clearing, const ClearingLimits& limits,
                       int64_t amount_minutes) {
  const int64_t owed_by_us =
      -(clearing.balance_minutes - clearing.pending_debit_minutes - amount_minutes);
  return owed_by_us <= limits.debit_limit_minutes;
}

std::string_view to_string(MirrorDifferenceKind kind) {
  switch (kind) {
    case MirrorDifferenceKind::missing_ours:
      return "missing_ours";
    case MirrorDifferenceKind::missing_theirs:
      return "missing_theirs";
    case MirrorDifferenceKind::direction:
      return "direction";
    case MirrorDifferenceKind::state:
      return "state";
    case MirrorDifferenceKind::amount:
      return "amount";
  }
  return "unknown";
}

std::vector<MirrorDifference> compare_mirrors(const ClearingSide& ours, const ClearingSide& theirs,
                                              std::size_t limit) {
  std::map<TransferId, std::pair<const ClearingLeg*, const ClearingLeg*>> by_id;
  for (const auto& leg : ours.legs) by_id[leg.id].first = &leg;
  for (const auto& leg : theirs.legs) by_id[leg.id].second = &leg;
  std::vector<MirrorDifference> differences;
  for (const auto& [id, pair] : by_id) {
    if (differences.size() >= limit) break;
    const auto& [mine, other] = pair;
    std::optional<MirrorDifferenceKind> kind;
    if (mine == nullptr) {
      kind = MirrorDifferenceKind::missing_ours;
    } else if (other == nullptr) {
      kind = MirrorDifferenceKind::missing_theirs;
    } else {
      kind = pair_difference(*mine, *other, ours.rate_micro, theirs.rate_micro);
    }
    if (!kind) continue;
    MirrorDifference d{id, *kind, std::nullopt, std::nullopt};
    if (mine != nullptr) d.ours = *mine;
    if (other != nullptr) d.theirs = *other;
    differences.push_back(std::move(d));
  }
  return differences;
}

}  // namespace maillon
