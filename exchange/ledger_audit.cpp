// The ledger audit: every check a community's books must pass, reported rather than asserted
// because the audit reads what PostgreSQL holds, which the process does not control.
#include "exchange/ledger_audit.hpp"

#include <set>

namespace maillon {
namespace {

std::string minutes_text(int64_t minutes) {
  return std::to_string(minutes) + " min";
}

void audit_account(const Account& account, int64_t entries_sum_minutes,
                   const CommunityPolicy& policy, std::vector<AuditViolation>& violations) {
  if (account.pending_debit_minutes < 0 || account.pending_credit_minutes < 0) {
    violations.push_back(
        {AuditCheck::negative_pending, account.id, "une somme en attente est négative"});
  }
  if (account.balance_minutes != entries_sum_minutes) {
    violations.push_back({AuditCheck::balance_not_sum_of_entries, account.id,
                          "solde " + minutes_text(account.balance_minutes) +
                              ", somme des écritures " + minutes_text(entries_sum_minutes)});
  }
  // The community's own account issues credits and may go as low as it must.
  if (account.community) return;
  if (account.available_minutes() < policy.min_balance) {
    violations.push_back({AuditCheck::below_min_balance, account.id,
                          "disponible " + minutes_text(account.available_minutes()) +
                              " sous le plancher " + minutes_text(policy.min_balance)});
  }
  const int64_t exposure_minutes = account.balance_minutes + account.pending_credit_minutes;
  if (exposure_minutes > policy.max_balance) {
    violations.push_back({AuditCheck::above_max_balance, account.id,
                          "solde avec crédits en attente " + minutes_text(exposure_minutes) +
                              " au-dessus du plafond " + minutes_text(policy.max_balance)});
  }
}

void audit_totals(AuditReport& report) {
  if (report.sum_balances_minutes != 0) {
    report.violations.push_back({AuditCheck::sum_not_zero, "",
                                 "la somme des soldes vaut " +
                                     minutes_text(report.sum_balances_minutes) + " au lieu de 0"});
  }
  if (report.pending_debit_minutes != report.pending_credit_minutes) {
    report.violations.push_back({AuditCheck::pending_mismatch, "",
                                 "débits en attente " + minutes_text(report.pending_debit_minutes) +
                                     ", crédits en attente " +
                                     minutes_text(report.pending_credit_minutes)});
  }
}

}  // namespace

std::string_view to_string(AuditCheck check) {
  switch (check) {
    case AuditCheck::sum_not_zero:
      return "sum_not_zero";
    case AuditCheck::pending_mismatch:
      return "pending_mismatch";
    case AuditCheck::negative_pending:
      return "negative_pending";
    case AuditCheck::balance_not_sum_of_entries:
      return "balance_not_sum_of_entries";
    case AuditCheck::entries_of_unknown_account:
      return "entries_of_unknown_account";
    case AuditCheck::below_min_balance:
      return "below_min_balance";
    case AuditCheck::above_max_balance:
      return "above_max_balance";
    case AuditCheck::mirror_mismatch:
      return "mirror_mismatch";
  }
  return "unknown";
}

AuditReport audit(std::span<const Account> accounts,
                  const std::map<AccountId, int64_t>& entry_sums_minutes,
                  const CommunityPolicy& policy) {
  AuditReport report;
  report.accounts = accounts.size();
  std::set<AccountId> known;
  for (const Account& account : accounts) {
    known.insert(account.id);
    report.sum_balances_minutes += account.balance_minutes;
    report.pending_debit_minutes += account.pending_debit_minutes;
    report.pending_credit_minutes += account.pending_credit_minutes;
    const auto sum = entry_sums_minutes.find(account.id);
    const int64_t entries_sum_minutes = sum == entry_sums_minutes.end() ? 0 : sum->second;
    audit_account(account, entries_sum_minutes, policy, report.violations);
  }
  for (const auto& [account_id, sum_minutes] : entry_sums_minutes) {
    if (!known.contains(account_id)) {
      report.violations.push_back(
          {AuditCheck::entries_of_unknown_account, account_id,
           "écritures pour " + minutes_text(sum_minutes) + " sur un compte inconnu"});
    }
  }
  audit_totals(report);
  return report;
}

AuditReport audit(std::span<const Account> accounts, std::span<const Entry> entries,
                  const CommunityPolicy& policy) {
  std::map<AccountId, int64_t> entry_sums_minutes;
  for (const Entry& entry : entries) entry_sums_minutes[entry.account_id] += entry.amount_minutes;
  return audit(accounts, entry_sums_minutes, policy);
}

}  // namespace maillon
