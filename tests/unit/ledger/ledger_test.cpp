// The ledger's rules one outcome at a time: transfers, idempotency, limits, holds and timeouts.
#include "exchange/ledger.hpp"

#include <gtest/gtest.h>

#include "unit/ledger/ledger_builders.hpp"

namespace maillon {
namespace {

using namespace ledger_test;

TEST(Ledger, ledger_posts_an_immediate_transfer_with_two_entries) {
  Ledger ledger = community_ledger();
  fund(ledger, "alice", 120);
  ledger.take_changes();

  TransferRequest request = payment("t1", "alice", "bob", 90);
  request.ref = "exchange-7";
  const TransferResult result = ledger.create(request, kStartUs + 5);

  ASSERT_EQ(result.outcome, LedgerOutcome::ok);
  EXPECT_EQ(result.transfer->state, TransferState::posted);
  EXPECT_EQ(result.transfer->posted_minutes, 90);
  EXPECT_EQ(balance_of(ledger, "alice"), 30);
  EXPECT_EQ(balance_of(ledger, "bob"), 90);
  const LedgerChanges changes = ledger.take_changes();
  ASSERT_EQ(changes.entries.size(), 2u);
  EXPECT_EQ(changes.entries[0], (Entry{"alice", "t1", -90, 30, TransferKind::exchange, "exchange-7",
                                       "bob", kStartUs + 5}));
  EXPECT_EQ(changes.entries[1], (Entry{"bob", "t1", 90, 90, TransferKind::exchange, "exchange-7",
                                       "alice", kStartUs + 5}));
}

TEST(Ledger, ledger_answers_a_retry_with_the_first_result_and_moves_nothing) {
  Ledger ledger = community_ledger();
  fund(ledger, "alice", 120);
  const TransferResult first = ledger.create(payment("t1", "alice", "bob", 60), kStartUs);
  ledger.take_changes();

  const TransferResult retry = ledger.create(payment("t1", "alice", "bob", 60), kStartUs + 99);

  EXPECT_EQ(retry.outcome, LedgerOutcome::exists);
  EXPECT_EQ(retry.transfer, first.transfer);
  EXPECT_EQ(balance_of(ledger, "alice"), 60);
  EXPECT_FALSE(ledger.has_changes());
}

TEST(Ledger, ledger_refuses_the_same_id_with_another_body) {
  Ledger ledger = community_ledger();
  fund(ledger, "alice", 120);
  ledger.create(payment("t1", "alice", "bob", 60), kStartUs);
  TransferRequest other_memo = payment("t1", "alice", "bob", 60);
  other_memo.memo = "autre chose";

  const TransferResult memo_result = ledger.create(other_memo, kStartUs);
  const TransferResult amount_result = ledger.create(payment("t1", "alice", "bob", 61), kStartUs);
  const TransferResult pending_result =
      ledger.create(hold_request("t1", "alice", "bob", 60), kStartUs);

  EXPECT_EQ(memo_result.outcome, LedgerOutcome::exists_with_different_body);
  EXPECT_EQ(amount_result.outcome, LedgerOutcome::exists_with_different_body);
  EXPECT_EQ(pending_result.outcome, LedgerOutcome::exists_with_different_body);
  EXPECT_EQ(memo_result.transfer->request.memo, "");
  EXPECT_EQ(balance_of(ledger, "alice"), 60);
}

TEST(Ledger, ledger_refuses_a_debit_below_min_balance_counting_holds) {
  CommunityPolicy policy;
  policy.min_balance = -100;
  Ledger ledger = community_ledger(policy);
  ASSERT_EQ(ledger.create(hold_request("h1", "alice", "bob", 70), kStartUs).outcome,
            LedgerOutcome::ok);

  const TransferResult refused = ledger.create(payment("t1", "alice", "bob", 31), kStartUs);
  const TransferResult accepted = ledger.create(payment("t2", "alice", "bob", 30), kStartUs);

  EXPECT_EQ(refused.outcome, LedgerOutcome::insufficient_credits);
  EXPECT_FALSE(refused.transfer.has_value());
  EXPECT_EQ(accepted.outcome, LedgerOutcome::ok);
  EXPECT_EQ(ledger.find_account("alice")->available_minutes(), -100);
}

TEST(Ledger, ledger_refuses_a_credit_above_max_balance_counting_pending_credits) {
  CommunityPolicy policy;
  policy.max_balance = 200;
  Ledger ledger = community_ledger(policy);
  fund(ledger, "bob", 150);
  ASSERT_EQ(ledger.create(hold_request("h1", "alice", "bob", 40), kStartUs).outcome,
            LedgerOutcome::ok);

  EXPECT_EQ(ledger.create(payment("t1", "alice", "bob", 11), kStartUs).outcome,
            LedgerOutcome::balance_cap);
  EXPECT_EQ(ledger.create(payment("t2", "alice", "bob", 10), kStartUs).outcome, LedgerOutcome::ok);
}

TEST(Ledger, ledger_lets_the_community_account_go_below_min_and_above_max) {
  CommunityPolicy policy;
  policy.min_balance = -100;
  policy.max_balance = 100;
  policy.signup_bonus = 100;
  Ledger ledger = community_ledger(policy);

  for (const AccountId& member : kMembers) fund(ledger, member, 100);
  EXPECT_EQ(balance_of(ledger, kCommunity), -300);
  for (const AccountId& member : kMembers) {
    EXPECT_EQ(ledger.create(payment("back-" + member, member, kCommunity, 200), kStartUs).outcome,
              LedgerOutcome::ok);
  }

  EXPECT_EQ(balance_of(ledger, kCommunity), 300);
}

TEST(Ledger, ledger_refuses_zero_negative_and_oversized_amounts) {
  Ledger ledger = community_ledger();
  for (const int64_t amount : {int64_t{0}, int64_t{-5}, kTransferMinutesMax + 1}) {
    EXPECT_EQ(ledger.create(payment("t1", kCommunity, "bob", amount), kStartUs).outcome,
              LedgerOutcome::invalid_amount);
  }
  EXPECT_EQ(ledger.create(payment("t1", kCommunity, "bob", 6000), kStartUs).outcome,
            LedgerOutcome::ok);
}

TEST(Ledger, ledger_refuses_a_transfer_to_the_same_account) {
  Ledger ledger = community_ledger();
  EXPECT_EQ(ledger.create(payment("t1", "bob", "bob", 10), kStartUs).outcome,
            LedgerOutcome::same_account);
}

TEST(Ledger, ledger_refuses_an_unknown_account) {
  Ledger ledger = community_ledger();
  EXPECT_EQ(ledger.create(payment("t1", "bob", "mallory", 10), kStartUs).outcome,
            LedgerOutcome::account_not_found);
  EXPECT_EQ(ledger.create(payment("t2", "mallory", "bob", 10), kStartUs).outcome,
            LedgerOutcome::account_not_found);
}

// The memo's bound is in characters, as the API says: 500 "é" (1,000 bytes) are a memo, 501 not.
TEST(Ledger, a_memo_is_bounded_in_characters_not_bytes) {
  Ledger ledger = community_ledger();
  std::string accents;
  for (std::size_t i = 0; i < kTransferMemoCharsMax; ++i) accents += "é";
  TransferRequest full = payment("t1", kCommunity, "bob", 10);
  full.memo = accents;
  EXPECT_EQ(ledger.create(full, kStartUs).outcome, LedgerOutcome::ok);
  TransferRequest over = payment("t2", kCommunity, "bob", 10);
  over.memo = accents + "é";
  EXPECT_EQ(ledger.create(over, kStartUs).outcome, LedgerOutcome::invalid_memo);
}

TEST(Ledger, ledger_refuses_malformed_ids_timeouts_memos_and_refs) {
  Ledger ledger = community_ledger();
  TransferRequest timeout_on_immediate = payment("t1", kCommunity, "bob", 10);
  timeout_on_immediate.timeout_s = 60;
  TransferRequest long_memo = payment("t1", kCommunity, "bob", 10);
  long_memo.memo.assign(kTransferMemoCharsMax + 1, 'm');
  TransferRequest long_ref = payment("t1", kCommunity, "bob", 10);
  long_ref.ref.assign(kTransferRefBytesMax + 1, 'r');

  EXPECT_EQ(ledger.create(payment("", kCommunity, "bob", 10), kStartUs).outcome,
            LedgerOutcome::invalid_id);
  EXPECT_EQ(ledger.create(timeout_on_immediate, kStartUs).outcome, LedgerOutcome::invalid_timeout);
  EXPECT_EQ(ledger.create(hold_request("t1", kCommunity, "bob", 10, -1), kStartUs).outcome,
            LedgerOutcome::invalid_timeout);
  EXPECT_EQ(ledger.create(long_memo, kStartUs).outcome, LedgerOutcome::invalid_memo);
  EXPECT_EQ(ledger.create(long_ref, kStartUs).outcome, LedgerOutcome::invalid_ref);
  EXPECT_TRUE(ledger.transfers().empty());
}

// PostgreSQL cannot store a NUL in a text: a command carrying one is refused, never written.
TEST(Ledger, ledger_refuses_a_nul_in_an_id_a_memo_or_a_ref) {
  Ledger ledger = community_ledger();
  const std::string nul("a\0b", 3);
  TransferRequest nul_memo = payment("t1", kCommunity, "bob", 10);
  nul_memo.memo = nul;
  TransferRequest nul_ref = payment("t1", kCommunity, "bob", 10);
  nul_ref.ref = nul;
  EXPECT_EQ(ledger.create(payment(nul, kCommunity, "bob", 10), kStartUs).outcome,
            LedgerOutcome::invalid_id);
  EXPECT_EQ(ledger.create(nul_memo, kStartUs).outcome, LedgerOutcome::invalid_memo);
  EXPECT_EQ(ledger.create(nul_ref, kStartUs).outcome, LedgerOutcome::invalid_ref);
  EXPECT_TRUE(ledger.transfers().empty());
  EXPECT_EQ(ledger.create(payment("t1", kCommunity, "bob", 10), kStartUs).outcome,
            LedgerOutcome::ok);
}

TEST(Ledger, ledger_keeps_the_id_of_a_refused_create_free_for_a_retry) {
  Ledger ledger = community_ledger();
  ASSERT_EQ(ledger.create(payment("t1", "alice", "bob", 700), kStartUs).outcome,
            LedgerOutcome::insufficient_credits);
  fund(ledger, "alice", 100);

  EXPECT_EQ(ledger.create(payment("t1", "alice", "bob", 700), kStartUs).outcome, LedgerOutcome::ok);
}

TEST(Ledger, ledger_hold_reserves_pending_sums_without_moving_balances) {
  Ledger ledger = community_ledger();
  fund(ledger, "alice", 100);
  ledger.take_changes();

  const TransferResult result = ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);

  EXPECT_EQ(result.transfer->state, TransferState::pending);
  EXPECT_EQ(*ledger.find_account("alice"), (Account{"alice", false, 100, 80, 0}));
  EXPECT_EQ(*ledger.find_account("bob"), (Account{"bob", false, 0, 0, 80}));
  EXPECT_TRUE(ledger.take_changes().entries.empty());
}

TEST(Ledger, ledger_posts_a_hold_in_full) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);

  const TransferResult result = ledger.post("h1", std::nullopt, kStartUs + kSecondUs);

  EXPECT_EQ(result.outcome, LedgerOutcome::ok);
  EXPECT_EQ(result.transfer->state, TransferState::posted);
  EXPECT_EQ(result.transfer->posted_minutes, 80);
  EXPECT_EQ(result.transfer->resolved_at_us, kStartUs + kSecondUs);
  EXPECT_EQ(*ledger.find_account("alice"), (Account{"alice", false, -80, 0, 0}));
  EXPECT_EQ(*ledger.find_account("bob"), (Account{"bob", false, 80, 0, 0}));
}

TEST(Ledger, ledger_posts_part_of_a_hold_and_releases_the_remainder) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);
  ledger.take_changes();

  const TransferResult result = ledger.post("h1", 50, kStartUs);

  EXPECT_EQ(result.outcome, LedgerOutcome::ok);
  EXPECT_EQ(result.transfer->posted_minutes, 50);
  EXPECT_EQ(result.transfer->request.amount_minutes, 80);
  EXPECT_EQ(*ledger.find_account("alice"), (Account{"alice", false, -50, 0, 0}));
  EXPECT_EQ(*ledger.find_account("bob"), (Account{"bob", false, 50, 0, 0}));
  const LedgerChanges changes = ledger.take_changes();
  ASSERT_EQ(changes.entries.size(), 2u);
  EXPECT_EQ(changes.entries[0].amount_minutes, -50);
}

TEST(Ledger, ledger_rejects_a_post_above_the_pending_amount) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);

  const TransferResult result = ledger.post("h1", 81, kStartUs);

  EXPECT_EQ(result.outcome, LedgerOutcome::exceeds_pending);
  EXPECT_EQ(result.transfer->state, TransferState::pending);
  EXPECT_EQ(ledger.find_account("alice")->pending_debit_minutes, 80);
}

TEST(Ledger, ledger_rejects_a_post_of_nothing) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);
  EXPECT_EQ(ledger.post("h1", 0, kStartUs).outcome, LedgerOutcome::invalid_amount);
}

TEST(Ledger, ledger_rejects_post_after_post) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);
  ledger.post("h1", 30, kStartUs);
  ledger.take_changes();

  const TransferResult again = ledger.post("h1", 30, kStartUs);

  EXPECT_EQ(again.outcome, LedgerOutcome::already_posted);
  EXPECT_EQ(balance_of(ledger, "bob"), 30);
  EXPECT_FALSE(ledger.has_changes());
}

TEST(Ledger, ledger_rejects_post_after_void) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);
  ledger.void_transfer("h1", kStartUs);
  EXPECT_EQ(ledger.post("h1", std::nullopt, kStartUs).outcome, LedgerOutcome::already_voided);
  EXPECT_EQ(ledger.void_transfer("h1", kStartUs).outcome, LedgerOutcome::already_voided);
}

TEST(Ledger, ledger_rejects_void_of_a_posted_transfer) {
  Ledger ledger = community_ledger();
  ledger.create(payment("t1", kCommunity, "bob", 80), kStartUs);
  EXPECT_EQ(ledger.void_transfer("t1", kStartUs).outcome, LedgerOutcome::already_posted);
  EXPECT_EQ(ledger.post("t1", std::nullopt, kStartUs).outcome, LedgerOutcome::already_posted);
}

TEST(Ledger, ledger_answers_not_found_for_an_unknown_transfer) {
  Ledger ledger = community_ledger();
  EXPECT_EQ(ledger.post("nope", std::nullopt, kStartUs).outcome, LedgerOutcome::not_found);
  EXPECT_EQ(ledger.void_transfer("nope", kStartUs).outcome, LedgerOutcome::not_found);
}

TEST(Ledger, ledger_void_releases_the_hold_and_moves_nothing) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 80), kStartUs);

  const TransferResult result = ledger.void_transfer("h1", kStartUs + 7);

  EXPECT_EQ(result.outcome, LedgerOutcome::ok);
  EXPECT_EQ(result.transfer->state, TransferState::voided);
  EXPECT_EQ(result.transfer->resolved_at_us, kStartUs + 7);
  EXPECT_EQ(*ledger.find_account("alice"), member_account("alice"));
  EXPECT_EQ(*ledger.find_account("bob"), member_account("bob"));
}

TEST(Ledger, ledger_expire_voids_holds_past_their_deadline_earliest_first) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("late", "alice", "bob", 20, 120), kStartUs);
  ledger.create(hold_request("early", "alice", "carol", 30, 60), kStartUs);
  ledger.create(hold_request("never", "alice", "bob", 10), kStartUs);

  EXPECT_TRUE(ledger.expire(kStartUs + 59 * kSecondUs).empty());
  const std::vector<Transfer> expired = ledger.expire(kStartUs + 120 * kSecondUs);

  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].request.id, "early");
  EXPECT_EQ(expired[1].request.id, "late");
  EXPECT_EQ(expired[0].state, TransferState::expired);
  EXPECT_EQ(ledger.find_account("alice")->pending_debit_minutes, 10);
  EXPECT_EQ(ledger.find_account("carol")->pending_credit_minutes, 0);
}

TEST(Ledger, ledger_expire_stops_at_its_limit) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 20, 60), kStartUs);
  ledger.create(hold_request("h2", "alice", "bob", 20, 60), kStartUs);

  EXPECT_EQ(ledger.expire(kStartUs + 60 * kSecondUs, 1).size(), 1u);
  EXPECT_EQ(ledger.expire(kStartUs + 60 * kSecondUs, 1).size(), 1u);
  EXPECT_TRUE(ledger.expire(kStartUs + 60 * kSecondUs, 1).empty());
}

TEST(Ledger, ledger_answers_expired_to_a_post_after_the_deadline_before_the_job_runs) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 20, 60), kStartUs);

  const TransferResult result = ledger.post("h1", std::nullopt, kStartUs + 60 * kSecondUs);

  EXPECT_EQ(result.outcome, LedgerOutcome::expired);
  EXPECT_EQ(result.transfer->state, TransferState::expired);
  EXPECT_EQ(balance_of(ledger, "bob"), 0);
  EXPECT_EQ(ledger.find_account("alice")->pending_debit_minutes, 0);
  EXPECT_TRUE(ledger.expire(kStartUs + 3600 * kSecondUs).empty());
}

TEST(Ledger, ledger_rejects_void_after_expiry) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 20, 60), kStartUs);
  ledger.expire(kStartUs + 61 * kSecondUs);
  EXPECT_EQ(ledger.void_transfer("h1", kStartUs).outcome, LedgerOutcome::expired);
  EXPECT_EQ(ledger.post("h1", std::nullopt, kStartUs).outcome, LedgerOutcome::expired);
}

TEST(Ledger, ledger_posts_a_hold_just_before_its_deadline) {
  Ledger ledger = community_ledger();
  ledger.create(hold_request("h1", "alice", "bob", 20, 60), kStartUs);
  EXPECT_EQ(ledger.post("h1", std::nullopt, kStartUs + 60 * kSecondUs - 1).outcome,
            LedgerOutcome::ok);
}

TEST(Ledger, ledger_apply_dispatches_every_command) {
  Ledger ledger = community_ledger();
  EXPECT_EQ(
      ledger.apply(CreateTransfer{hold_request("h1", kCommunity, "bob", 20), kStartUs}).outcome,
      LedgerOutcome::ok);
  EXPECT_EQ(ledger.apply(PostTransfer{"h1", 5, kStartUs}).outcome, LedgerOutcome::ok);
  EXPECT_EQ(ledger.apply(VoidTransfer{"h1", kStartUs}).outcome, LedgerOutcome::already_posted);
  EXPECT_EQ(balance_of(ledger, "bob"), 5);
}

TEST(Ledger, ledger_names_round_trip) {
  for (const TransferKind kind :
       {TransferKind::exchange, TransferKind::bonus, TransferKind::allowance,
        TransferKind::deposit_reward, TransferKind::loan, TransferKind::manual,
        TransferKind::correction}) {
    EXPECT_EQ(transfer_kind_from_string(to_string(kind)), kind);
  }
  for (const TransferState state : {TransferState::pending, TransferState::posted,
                                    TransferState::voided, TransferState::expired}) {
    EXPECT_EQ(transfer_state_from_string(to_string(state)), state);
  }
  EXPECT_EQ(to_string(TransferKind::deposit_reward), "deposit_reward");
  EXPECT_EQ(to_string(LedgerOutcome::insufficient_credits), "insufficient-credits");
  EXPECT_EQ(to_string(LedgerOutcome::exists_with_different_body), "exists-with-different-body");
  EXPECT_FALSE(transfer_kind_from_string("gift").has_value());
  EXPECT_TRUE(is_accepted(LedgerOutcome::exists));
  EXPECT_FALSE(is_accepted(LedgerOutcome::balance_cap));
}

}  // namespace
}  // namespace maillon
