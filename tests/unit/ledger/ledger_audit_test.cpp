// The audit finds each kind of broken book, and nothing in a sound one.
#include "exchange/ledger_audit.hpp"

#include <gtest/gtest.h>

#include "unit/ledger/ledger_builders.hpp"

namespace maillon {
namespace {

using namespace ledger_test;

std::vector<Account> accounts_of(const Ledger& ledger) {
  std::vector<Account> accounts;
  for (const auto& [id, account] : ledger.accounts()) accounts.push_back(account);
  return accounts;
}

std::vector<AuditCheck> checks_of(const AuditReport& report) {
  std::vector<AuditCheck> checks;
  for (const AuditViolation& violation : report.violations) checks.push_back(violation.check);
  return checks;
}

TEST(LedgerAudit, audit_passes_a_ledger_after_transfers_and_holds) {
  Ledger ledger = community_ledger();
  fund(ledger, "alice", 200);
  ledger.create(payment("t1", "alice", "bob", 50), kStartUs);
  ledger.create(hold_request("h1", "bob", "carol", 20), kStartUs);

  const std::vector<Account> accounts = accounts_of(ledger);
  const std::vector<Entry> entries = ledger.take_changes().entries;
  const AuditReport report = audit(accounts, entries, ledger.policy());

  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.accounts, 4u);
  EXPECT_EQ(report.sum_balances_minutes, 0);
  EXPECT_EQ(report.pending_debit_minutes, 20);
  EXPECT_EQ(report.pending_credit_minutes, 20);
}

TEST(LedgerAudit, audit_reports_balances_that_do_not_sum_to_zero) {
  const std::vector<Account> accounts = {member_account("alice", 10)};
  const std::vector<Entry> entries = {{"alice", "t1", 10, 10, TransferKind::manual, "", "x", 0}};

  const AuditReport report = audit(accounts, entries, CommunityPolicy{});

  EXPECT_EQ(checks_of(report), std::vector<AuditCheck>{AuditCheck::sum_not_zero});
  EXPECT_EQ(report.violations[0].detail, "la somme des soldes vaut 10 min au lieu de 0");
}

TEST(LedgerAudit, audit_reports_a_balance_that_is_not_the_sum_of_its_entries) {
  const std::vector<Account> accounts = {member_account("alice", 10), member_account("bob", -10)};

  const AuditReport report =
      audit(accounts, std::map<AccountId, int64_t>{{"bob", -10}}, CommunityPolicy{});

  EXPECT_EQ(checks_of(report), std::vector<AuditCheck>{AuditCheck::balance_not_sum_of_entries});
  EXPECT_EQ(report.violations[0].account_id, "alice");
}

TEST(LedgerAudit, audit_reports_members_past_their_limits_but_not_the_community) {
  CommunityPolicy policy;
  const std::vector<Account> accounts = {
      Account{"alice", false, policy.min_balance, 1, 0},
      Account{"bob", false, policy.max_balance, 0, 1},
      Account{kCommunity, true, -policy.min_balance - policy.max_balance, 0, 0}};
  const std::map<AccountId, int64_t> sums = {{"alice", accounts[0].balance_minutes},
                                             {"bob", accounts[1].balance_minutes},
                                             {kCommunity, accounts[2].balance_minutes}};

  const AuditReport report = audit(accounts, sums, policy);

  EXPECT_EQ(checks_of(report), (std::vector<AuditCheck>{AuditCheck::below_min_balance,
                                                        AuditCheck::above_max_balance}));
}

TEST(LedgerAudit, audit_reports_mismatched_and_negative_pending_sums) {
  const std::vector<Account> accounts = {Account{"alice", false, 0, 5, 0},
                                         Account{"bob", false, 0, 0, -1}};

  const AuditReport report = audit(accounts, std::map<AccountId, int64_t>{}, CommunityPolicy{});

  EXPECT_EQ(checks_of(report),
            (std::vector<AuditCheck>{AuditCheck::negative_pending, AuditCheck::pending_mismatch}));
}

TEST(LedgerAudit, audit_reports_entries_of_an_account_it_was_not_given) {
  const std::vector<Account> accounts = {member_account("alice")};
  const AuditReport report =
      audit(accounts, std::map<AccountId, int64_t>{{"ghost", 5}}, CommunityPolicy{});

  EXPECT_EQ(checks_of(report), std::vector<AuditCheck>{AuditCheck::entries_of_unknown_account});
  EXPECT_EQ(to_string(report.violations[0].check), "entries_of_unknown_account");
}

}  // namespace
}  // namespace maillon
