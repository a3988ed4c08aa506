// Builders shared by the ledger's unit and property tests: a small community, requests, time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exchange/ledger.hpp"

namespace maillon::ledger_test {

inline constexpr int64_t kStartUs = 1'700'000'000'000'000;  // any fixed instant will do
inline constexpr int64_t kSecondUs = 1'000'000;
inline const AccountId kCommunity = "community";
inline const std::vector<AccountId> kMembers = {"alice", "bob", "carol"};

inline Account member_account(const AccountId& id, int64_t balance_minutes = 0) {
  return Account{id, false, balance_minutes, 0, 0};
}

// A community whose members start at 0 and whose own account is the only issuer.
inline Ledger community_ledger(const CommunityPolicy& policy = {}) {
  Ledger ledger(policy);
  ledger.load_account(Account{kCommunity, true, 0, 0, 0});
  for (const AccountId& id : kMembers) ledger.load_account(member_account(id));
  return ledger;
}

inline TransferRequest payment(const TransferId& id, const AccountId& from, const AccountId& to,
                               int64_t amount_minutes) {
  TransferRequest request;
  request.id = id;
  request.from_account_id = from;
  request.to_account_id = to;
  request.amount_minutes = amount_minutes;
  return request;
}

inline TransferRequest hold_request(const TransferId& id, const AccountId& from,
                                    const AccountId& to, int64_t amount_minutes,
                                    int64_t timeout_s = 0) {
  TransferRequest request = payment(id, from, to, amount_minutes);
  request.pending = true;
  request.timeout_s = timeout_s;
  return request;
}

// Gives a member credits the way a community does: a bonus from its own account.
inline void fund(Ledger& ledger, const AccountId& member, int64_t amount_minutes) {
  TransferRequest bonus =
      payment("fund-" + member + "-" + std::to_string(ledger.transfers().size()), kCommunity,
              member, amount_minutes);
  bonus.kind = TransferKind::bonus;
  ledger.create(bonus, kStartUs);
}

inline int64_t balance_of(const Ledger& ledger, const AccountId& id) {
  return ledger.find_account(id)->balance_minutes;
}

}  // namespace maillon::ledger_test
