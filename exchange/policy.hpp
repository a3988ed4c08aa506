// A community's policy: the limits and amounts every rule reads (integer minutes or counts).
#pragma once

#include <cstdint>

#include "exchange/validation.hpp"

namespace maillon {

enum class Membership { open, approval };

struct CommunityPolicy {
  int64_t min_balance = -600;      // a member may owe 10 h
  int64_t max_balance = 6000;      // nobody hoards more than 100 h
  int64_t signup_bonus = 120;      // 2 h to start exchanging at once
  int64_t monthly_allowance = 60;  // 1 h a month for active members
  int64_t deposit_reward = 30;     // per object dropped at a depot
  int64_t loan_cost = 30;          // per loan from an objetothèque
  int64_t reservation_hours = 48;  // a reserved depot item waits this long
  int64_t unclaimed_days = 30;     // then it goes to a partner
  int64_t proposal_days = 7;       // an unaccepted exchange proposal expires
  int64_t max_active_reservations = 3;
  // A staff grant above this waits for a second staff member or an admin (four eyes).
  int64_t grant_review_minutes = 300;
  int64_t max_renewals = 2;  // a loan between members is renewed at most this often
  // A held object waits this long for the first of its queue before the next one is told.
  int64_t hold_pickup_days = 7;
  // Whether a new member may exchange at once (open) or waits for staff approval.
  Membership membership = Membership::open;
  bool operator==(const CommunityPolicy&) const = default;
};

// Bounds that keep every policy sane: amounts within +/- 1000 h, durations within a year.
inline constexpr int64_t kPolicyMinutesBound = 60'000;
inline constexpr int64_t kPolicyDaysBound = 365;

FieldErrors validate_policy(const CommunityPolicy& policy);

}  // namespace maillon
