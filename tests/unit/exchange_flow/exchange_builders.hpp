// Builders for exchange tests: the two parties, staff, and exchanges driven into each state
// through the real transitions, so a fixture can never be a state the machine cannot reach.
#pragma once

#include <cstdint>
#include <string>

#include "exchange/exchange_flow.hpp"

namespace maillon::test {

inline constexpr int64_t kT0 = 1'700'000'000;  // an arbitrary instant, in Unix seconds
inline constexpr int64_t kHour = 3600;
inline constexpr int64_t kDay = 24 * kHour;

inline ExchangeActor provider() {
  return ExchangeActor::member("provider-1");
}
inline ExchangeActor receiver() {
  return ExchangeActor::member("receiver-1");
}
inline ExchangeActor stranger() {
  return ExchangeActor::member("stranger-1");
}
inline ExchangeActor staff() {
  return ExchangeActor::staff("staff-1");
}
inline ExchangeActor staff_for_provider() {
  return ExchangeActor::staff_for("staff-1", "provider-1");
}
inline ExchangeActor staff_for_receiver() {
  return ExchangeActor::staff_for("staff-1", "receiver-1");
}
inline ExchangeActor staff_for_stranger() {
  return ExchangeActor::staff_for("staff-1", "stranger-1");
}

// The receiver asked (a request answered by an offer), so the provider is "the other party".
inline ExchangeProposal proposal(int64_t minutes = 60) {
  return {"ex-1", "site-1", "provider-1", "receiver-1", "receiver-1", minutes};
}

inline Exchange proposed(int64_t minutes = 60) {
  return open_exchange(proposal(minutes), receiver(), kT0);
}

inline Exchange accepting(int64_t minutes = 60) {
  Exchange ex = proposed(minutes);
  accept_exchange(ex, provider(), CommunityPolicy{}, kT0 + kHour);
  return ex;
}

inline Exchange accepted(int64_t minutes = 60) {
  Exchange ex = accepting(minutes);
  apply_ledger_held(ex, current_transfer_id(ex), kT0 + 2 * kHour);
  return ex;
}

inline Exchange disputed(int64_t minutes = 60) {
  Exchange ex = accepted(minutes);
  dispute_exchange(ex, receiver(), "", kT0 + 3 * kHour);
  return ex;
}

// Both parties confirmed; the post is on its way to the ledger.
inline Exchange completing(int64_t minutes = 60) {
  Exchange ex = accepted(minutes);
  confirm_completion(ex, provider(), kT0 + 3 * kHour);
  confirm_completion(ex, receiver(), kT0 + 3 * kHour);
  return ex;
}

// The ledger posted the whole hold.
inline Exchange completed(int64_t minutes = 60) {
  Exchange ex = completing(minutes);
  apply_ledger_posted(ex, current_transfer_id(ex), minutes, kT0 + 4 * kHour);
  return ex;
}

inline Exchange in_state(ExchangeState state) {
  const CommunityPolicy policy;
  switch (state) {
    case ExchangeState::proposed:
      return proposed();
    case ExchangeState::accepting:
      return accepting();
    case ExchangeState::accepted:
      return accepted();
    case ExchangeState::disputed:
      return disputed();
    case ExchangeState::completing:
      return completing();
    case ExchangeState::completed:
      return completed();
    default:
      break;
  }
  Exchange ex = state == ExchangeState::resolved ? disputed() : accepted();
  if (state == ExchangeState::cancelled) cancel_exchange(ex, receiver(), kT0 + 4 * kHour);
  if (state == ExchangeState::resolved) resolve_dispute(ex, staff(), {}, kT0 + 4 * kHour);
  if (state == ExchangeState::declined) {
    ex = proposed();
    decline_exchange(ex, provider(), kT0 + kHour);
  }
  if (state == ExchangeState::expired) {
    ex = proposed();
    expire_proposal(ex, ExchangeActor::system(), policy, kT0 + policy.proposal_days * kDay);
  }
  return ex;
}

}  // namespace maillon::test
