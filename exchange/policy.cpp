// Validation of a community policy.
#include "exchange/policy.hpp"

#include <string>

namespace maillon {
namespace {

void check_range(FieldErrors& errors, const char* field, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    errors.push_back(
        {std::string("policy.") + field,
         "doit être compris entre " + std::to_string(low) + " et " + std::to_string(high)});
  }
}

}  // namespace

FieldErrors validate_policy(const CommunityPolicy& p) {
  FieldErrors errors;
  check_range(errors, "min_balance", p.min_balance, -kPolicyMinutesBound, 0);
  check_range(errors, "max_balance", p.max_balance, 0, kPolicyMinutesBound);
  check_range(errors, "signup_bonus", p.signup_bonus, 0, p.max_balance);
  check_range(errors, "monthly_allowance", p.monthly_allowance, 0, kPolicyMinutesBound);
  check_range(errors, "deposit_reward", p.deposit_reward, 0, kPolicyMinutesBound);
  check_range(errors, "loan_cost", p.loan_cost, 0, kPolicyMinutesBound);
  check_range(errors, "reservation_hours", p.reservation_hours, 1, kPolicyDaysBound * 24);
  check_range(errors, "unclaimed_days", p.unclaimed_days, 1, kPolicyDaysBound);
  check_range(errors, "proposal_days", p.proposal_days, 1, kPolicyDaysBound);
  check_range(errors, "max_active_reservations", p.max_active_reservations, 1, 100);
  check_range(errors, "grant_review_minutes", p.grant_review_minutes, 1, kPolicyMinutesBound);
  check_range(errors, "max_renewals", p.max_renewals, 0, 20);
  check_range(errors, "hold_pickup_days", p.hold_pickup_days, 1, 60);
  return errors;
}

}  // namespace maillon
