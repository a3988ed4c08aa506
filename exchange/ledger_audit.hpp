// The ledger audit: proves from stored accounts and entries that a community's books hold
// (balances sum to 0, holds match, each balance is the sum of its entries, limits respected).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/ledger.hpp"
#include "exchange/policy.hpp"

namespace maillon {

enum class AuditCheck {
  sum_not_zero,                // the balances of the community do not sum to 0
  pending_mismatch,            // pending debits and pending credits differ
  negative_pending,            // an account holds a negative pending sum
  balance_not_sum_of_entries,  // a balance differs from the sum of its entries
  entries_of_unknown_account,  // entries name an account the audit was not given
  below_min_balance,           // a member's balance minus pending debits under min_balance
  above_max_balance,           // a member's balance plus pending credits over max_balance
  // A clearing account and its mirror in a partner community of this installation disagree
  // (exchange/federation.hpp: a leg missing on one side, another state or amount, or balances
  // that are not each other's opposite at a 1:1 rate).
  mirror_mismatch,
};
std::string_view to_string(AuditCheck check);  // snake_case, for the audit's JSON

struct AuditViolation {
  AuditCheck check = AuditCheck::sum_not_zero;
  AccountId account_id;  // empty for community-wide checks
  std::string detail;    // in French, for the staff who read the audit
  bool operator==(const AuditViolation&) const = default;
};

struct AuditReport {
  std::size_t accounts = 0;
  int64_t sum_balances_minutes = 0;
  int64_t pending_debit_minutes = 0;
  int64_t pending_credit_minutes = 0;
  std::vector<AuditViolation> violations;  // accounts in the order given, then global checks
  bool ok() const { return violations.empty(); }
};

// The accounts of one community with the sum of each account's entries (what SQL's
// `SELECT account_id, sum(amount_minutes) ... GROUP BY account_id` gives).
AuditReport audit(std::span<const Account> accounts,
                  const std::map<AccountId, int64_t>& entry_sums_minutes,
                  const CommunityPolicy& policy);
// The same from the entries themselves (tests, small communities).
AuditReport audit(std::span<const Account> accounts, std::span<const Entry> entries,
                  const CommunityPolicy& policy);

}  // namespace maillon
