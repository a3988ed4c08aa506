// The ledger used as a batch: loaded from a snapshot, it reports exactly what the writer must
// store (changed accounts with their previous state, inserted or updated transfers, entries).
#include <gtest/gtest.h>

#include "exchange/ledger.hpp"
#include "unit/ledger/ledger_builders.hpp"

namespace maillon {
namespace {

using namespace ledger_test;

Transfer stored_hold(const TransferId& id, const AccountId& from, const AccountId& to,
                     int64_t amount_minutes, int64_t timeout_s = 0) {
  return Transfer{hold_request(id, from, to, amount_minutes, timeout_s), kStartUs,
                  TransferState::pending, 0, 0};
}

TEST(LedgerBatch, batch_reports_changed_accounts_with_their_previous_state) {
  Ledger ledger = community_ledger();
  fund(ledger, "alice", 100);
  ledger.take_changes();

  ledger.create(payment("t1", "alice", "bob", 40), kStartUs);
  ledger.create(payment("t2", "bob", "carol", 10), kStartUs);
  const LedgerChanges changes = ledger.take_changes();

  ASSERT_EQ(changes.accounts.size(), 3u);
  EXPECT_EQ(changes.accounts[0].before, member_account("alice", 100));
  EXPECT_EQ(changes.accounts[0].after, member_account("alice", 60));
  EXPECT_EQ(changes.accounts[1].after, member_account("bob", 30));
  EXPECT_EQ(changes.accounts[2].after, member_account("carol", 10));
  ASSERT_EQ(changes.transfers.size(), 2u);
  EXPECT_EQ(changes.transfers[0].transfer.request.id, "t1");
  EXPECT_TRUE(changes.transfers[0].created);
  EXPECT_EQ(changes.entries.size(), 4u);
  EXPECT_EQ(changes.entries[3].balance_after_minutes, 10);
}

TEST(LedgerBatch, batch_writes_no_account_for_a_hold_voided_in_the_same_batch) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 40), kStartUs);
  ledger.void_transfer("h1", kStartUs);

  const LedgerChanges changes = ledger.take_changes();

  EXPECT_TRUE(changes.accounts.empty());
  ASSERT_EQ(changes.transfers.size(), 1u);
  EXPECT_TRUE(changes.transfers[0].created);
  EXPECT_EQ(changes.transfers[0].transfer.state, TransferState::voided);
}

TEST(LedgerBatch, batch_posts_a_loaded_hold_as_an_update) {
  Ledger batch(CommunityPolicy{});
  batch.load_account(Account{"alice", false, 100, 40, 0});
  batch.load_account(Account{"bob", false, 0, 0, 40});
  batch.load_transfer(stored_hold("h1", "alice", "bob", 40));

  ASSERT_EQ(batch.post("h1", 25, kStartUs + kSecondUs).outcome, LedgerOutcome::ok);
  const LedgerChanges changes = batch.take_changes();

  ASSERT_EQ(changes.transfers.size(), 1u);
  EXPECT_FALSE(changes.transfers[0].created);
  EXPECT_EQ(changes.transfers[0].transfer.posted_minutes, 25);
  EXPECT_EQ(changes.accounts[0].after, (Account{"alice", false, 75, 0, 0}));
  EXPECT_EQ(changes.accounts[1].after, (Account{"bob", false, 25, 0, 0}));
}

TEST(LedgerBatch, batch_expires_a_loaded_hold_past_its_deadline) {
  Ledger batch(CommunityPolicy{});
  batch.load_account(Account{"alice", false, 0, 40, 0});
  batch.load_account(Account{"bob", false, 0, 0, 40});
  batch.load_transfer(stored_hold("h1", "alice", "bob", 40, 30));

  const std::vector<Transfer> expired = batch.expire(kStartUs + 30 * kSecondUs);

  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].resolved_at_us, kStartUs + 30 * kSecondUs);
  EXPECT_EQ(batch.find_account("alice")->pending_debit_minutes, 0);
  EXPECT_FALSE(batch.take_changes().transfers[0].created);
}

TEST(LedgerBatch, batch_answers_exists_for_a_loaded_transfer_and_changes_nothing) {
  Ledger batch(CommunityPolicy{});
  batch.load_account(member_account("alice", 10));
  batch.load_account(member_account("bob", 30));
  const TransferRequest request = payment("t1", "alice", "bob", 30);
  batch.load_transfer(Transfer{request, kStartUs, TransferState::posted, 30, kStartUs});

  EXPECT_EQ(batch.create(request, kStartUs + kSecondUs).outcome, LedgerOutcome::exists);
  const LedgerChanges changes = batch.take_changes();
  EXPECT_TRUE(changes.accounts.empty());
  EXPECT_TRUE(changes.transfers.empty());
  EXPECT_TRUE(changes.entries.empty());
}

TEST(LedgerBatch, batch_starts_afresh_after_take_changes) {
  Ledger ledger = community_ledger();
  fund(ledger, "alice", 100);
  EXPECT_TRUE(ledger.has_changes());
  ledger.take_changes();
  EXPECT_FALSE(ledger.has_changes());
  EXPECT_TRUE(ledger.take_changes().entries.empty());
}

TEST(LedgerBatchDeathTest, batch_refuses_a_pending_transfer_loaded_before_its_accounts) {
  Ledger batch(CommunityPolicy{});
  EXPECT_DEATH(batch.load_transfer(stored_hold("h1", "alice", "bob", 40)), "accounts are loaded");
}

}  // namespace
}  // namespace maillon
