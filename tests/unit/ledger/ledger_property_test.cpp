// Properties of random sequences of creates (duplicates included), posts, voids and timeouts:
// the books always balance, no limit is crossed, replays change nothing, and a service that
// applies the same sequence in small batches over snapshots ends with the same books.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "exchange/ledger.hpp"
#include "exchange/ledger_audit.hpp"
#include "unit/ledger/ledger_builders.hpp"

namespace maillon {
namespace {

using namespace ledger_test;

constexpr int kTransferIds = 20;
constexpr int kBodiesPerId = 2;  // two bodies per id: same body is a retry, the other a conflict

struct ExpireAt {
  int64_t now_us = 0;
};
using Step = std::variant<LedgerCommand, ExpireAt>;
using StepResult = std::variant<TransferResult, std::vector<Transfer>>;

// Tight limits so that random amounts hit insufficient_credits and balance_cap often.
CommunityPolicy tight_policy() {
  CommunityPolicy policy;
  policy.min_balance = -300;
  policy.max_balance = 600;
  policy.signup_bonus = 120;
  return policy;
}

// Uniform over [low, high) whatever RapidCheck's current size, which would skew choices low.
template <typename T>
T uniform(T low, T high) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(low, high));
}

AccountId account_at(int index) {
  return index == 0 ? kCommunity : kMembers.at(index - 1);
}

rc::Gen<TransferRequest> gen_body(int transfer_index) {
  return rc::gen::exec([transfer_index] {
    const int from_index = uniform(0, 4);
    // Mostly another account; now and then the same one, which must be refused.
    const int to_index =
        (from_index + *rc::gen::weightedElement<int>({{1, 0}, {15, 1}, {15, 2}, {15, 3}})) % 4;
    const int64_t amount_minutes =
        *rc::gen::weightedOneOf<int64_t>({{20, rc::gen::inRange<int64_t>(1, 500)},
                                          {1, rc::gen::just<int64_t>(0)},
                                          {1, rc::gen::just(kTransferMinutesMax + 1)}});
    TransferRequest request = payment("t" + std::to_string(transfer_index), account_at(from_index),
                                      account_at(to_index), amount_minutes);
    request.pending = *rc::gen::arbitrary<bool>();
    request.timeout_s = request.pending ? *rc::gen::element<int64_t>(0, 10, 60) : 0;
    request.kind = *rc::gen::element(TransferKind::exchange, TransferKind::bonus,
                                     TransferKind::loan, TransferKind::correction);
    request.memo = *rc::gen::element<std::string>("", "jardinage");
    return request;
  });
}

std::vector<TransferRequest> gen_bodies() {
  std::vector<TransferRequest> bodies;
  for (int index = 0; index < kTransferIds; ++index) {
    for (int body = 0; body < kBodiesPerId; ++body) bodies.push_back(*gen_body(index));
  }
  return bodies;
}

// A random script: the time each step runs at is fixed here so both runners see the same.
std::vector<Step> gen_script(const std::vector<TransferRequest>& bodies) {
  const int step_count = uniform(10, 80);
  std::vector<Step> steps;
  int64_t now_us = kStartUs;
  for (int step = 0; step < step_count; ++step) {
    const int choice = uniform(0, 11);
    const TransferId id = "t" + std::to_string(uniform(0, kTransferIds));
    if (choice < 5) {
      steps.push_back(
          LedgerCommand{CreateTransfer{bodies.at(uniform<std::size_t>(0, bodies.size())), now_us}});
    } else if (choice < 7) {
      std::optional<int64_t> amount_minutes;
      if (*rc::gen::arbitrary<bool>()) amount_minutes = *rc::gen::inRange<int64_t>(-1, 520);
      steps.push_back(LedgerCommand{PostTransfer{id, amount_minutes, now_us}});
    } else if (choice < 8) {
      steps.push_back(LedgerCommand{VoidTransfer{id, now_us}});
    } else if (choice < 10) {
      now_us += *rc::gen::inRange<int64_t>(1, 60) * kSecondUs;
    } else {
      steps.push_back(ExpireAt{now_us});
    }
  }
  return steps;
}

StepResult run_step(Ledger& ledger, const Step& step) {
  if (const auto* expire_step = std::get_if<ExpireAt>(&step)) {
    return ledger.expire(expire_step->now_us);
  }
  return ledger.apply(std::get<LedgerCommand>(step));
}

// Starts every member with a bonus, as a community does, so that debits are possible.
Ledger funded_ledger(std::vector<Entry>& entries) {
  Ledger ledger = community_ledger(tight_policy());
  for (const AccountId& member : kMembers) fund(ledger, member, tight_policy().signup_bonus);
  entries = ledger.take_changes().entries;
  return ledger;
}

void assert_books_hold(const Ledger& ledger, const std::vector<Entry>& entries) {
  std::vector<Account> accounts;
  for (const auto& [id, account] : ledger.accounts()) accounts.push_back(account);
  const AuditReport report = audit(accounts, entries, ledger.policy());
  for (const AuditViolation& violation : report.violations) RC_LOG() << violation.detail << "\n";
  RC_ASSERT(report.ok());
  // Each account's pending sums are exactly its open holds.
  std::map<AccountId, int64_t> debit_minutes, credit_minutes;
  for (const auto& [id, transfer] : ledger.transfers()) {
    if (transfer.state != TransferState::pending) continue;
    debit_minutes[transfer.request.from_account_id] += transfer.request.amount_minutes;
    credit_minutes[transfer.request.to_account_id] += transfer.request.amount_minutes;
  }
  for (const Account& account : accounts) {
    RC_ASSERT(account.pending_debit_minutes == debit_minutes[account.id]);
    RC_ASSERT(account.pending_credit_minutes == credit_minutes[account.id]);
  }
}

void assert_replay_changes_nothing(Ledger& ledger, const Step& step, const StepResult& first) {
  const auto accounts = ledger.accounts();
  const auto transfers = ledger.transfers();
  const StepResult again = run_step(ledger, step);
  const LedgerChanges changes = ledger.take_changes();
  RC_ASSERT(changes.accounts.empty());
  RC_ASSERT(changes.transfers.empty());
  RC_ASSERT(changes.entries.empty());
  RC_ASSERT(ledger.accounts() == accounts);
  RC_ASSERT(ledger.transfers() == transfers);
  const auto* first_result = std::get_if<TransferResult>(&first);
  if (first_result == nullptr) return;
  const auto& again_result = std::get<TransferResult>(again);
  if (first_result->outcome != LedgerOutcome::ok) {
    RC_ASSERT(again_result == *first_result);
  } else {
    RC_ASSERT(again_result.outcome != LedgerOutcome::ok);
    RC_ASSERT(again_result.transfer == first_result->transfer);
  }
}

RC_GTEST_PROP(LedgerProperties, books_balance_limits_hold_and_replays_change_nothing, ()) {
  const std::vector<Step> script = gen_script(gen_bodies());
  std::vector<Entry> entries;
  Ledger ledger = funded_ledger(entries);
  for (const Step& step : script) {
    const StepResult result = run_step(ledger, step);
    LedgerChanges changes = ledger.take_changes();
    entries.insert(entries.end(), changes.entries.begin(), changes.entries.end());
    assert_books_hold(ledger, entries);
    assert_replay_changes_nothing(ledger, step, result);
  }
}

RC_GTEST_PROP(LedgerProperties, a_retried_create_answers_exists_with_the_stored_transfer, ()) {
  const std::vector<TransferRequest> bodies = gen_bodies();
  const std::vector<Step> script = gen_script(bodies);
  std::vector<Entry> entries;
  Ledger ledger = funded_ledger(entries);
  for (const Step& step : script) run_step(ledger, step);
  for (const TransferRequest& body : bodies) {
    const Transfer* stored = ledger.find_transfer(body.id);
    // A malformed body is refused before the id is looked up: it could never have been stored.
    const bool well_formed = body.amount_minutes > 0 &&
                             body.amount_minutes <= kTransferMinutesMax &&
                             body.from_account_id != body.to_account_id;
    if (stored == nullptr || !well_formed) continue;
    const TransferResult retry = ledger.create(body, kStartUs + 3600 * kSecondUs);
    RC_ASSERT(retry.outcome == (stored->request == body
                                    ? LedgerOutcome::exists
                                    : LedgerOutcome::exists_with_different_body));
    RC_ASSERT(retry.transfer == *stored);
  }
}

// What the service keeps in PostgreSQL, reduced to maps.
struct Store {
  std::map<AccountId, Account> accounts;
  std::map<TransferId, Transfer> transfers;
  std::vector<Entry> entries;
};

// The service's loading query: the accounts and transfers a batch of steps names, the holds
// an expiry would void, and the accounts of every pending transfer loaded.
Ledger load_batch(const Store& store, const std::vector<Step>& batch,
                  const CommunityPolicy& policy) {
  std::set<AccountId> account_ids;
  std::set<TransferId> transfer_ids;
  for (const Step& step : batch) {
    if (const auto* expire_step = std::get_if<ExpireAt>(&step)) {
      for (const auto& [id, transfer] : store.transfers) {
        const auto deadline_us = transfer_deadline_us(transfer);
        if (transfer.state == TransferState::pending && deadline_us &&
            *deadline_us <= expire_step->now_us) {
          transfer_ids.insert(id);
        }
      }
      continue;
    }
    std::visit(
        [&](const auto& command) {
          using Command = std::decay_t<decltype(command)>;
          if constexpr (std::is_same_v<Command, CreateTransfer>) {
            account_ids.insert(command.request.from_account_id);
            account_ids.insert(command.request.to_account_id);
            transfer_ids.insert(command.request.id);
          } else {
            transfer_ids.insert(command.id);
          }
        },
        std::get<LedgerCommand>(step));
  }
  for (const TransferId& id : transfer_ids) {
    const auto found = store.transfers.find(id);
    if (found == store.transfers.end() || found->second.state != TransferState::pending) continue;
    account_ids.insert(found->second.request.from_account_id);
    account_ids.insert(found->second.request.to_account_id);
  }
  Ledger ledger(policy);
  for (const AccountId& id : account_ids) {
    if (const auto found = store.accounts.find(id); found != store.accounts.end()) {
      ledger.load_account(found->second);
    }
  }
  for (const TransferId& id : transfer_ids) {
    if (const auto found = store.transfers.find(id); found != store.transfers.end()) {
      ledger.load_transfer(found->second);
    }
  }
  return ledger;
}

// The service's write: guarded account updates, transfer inserts or updates, entries appended.
void write_batch(Store& store, LedgerChanges changes) {
  for (const AccountChange& change : changes.accounts) {
    RC_ASSERT(store.accounts.at(change.after.id) == change.before);
    store.accounts[change.after.id] = change.after;
  }
  for (const TransferChange& change : changes.transfers) {
    RC_ASSERT(store.transfers.contains(change.transfer.request.id) != change.created);
    store.transfers[change.transfer.request.id] = change.transfer;
  }
  store.entries.insert(store.entries.end(), changes.entries.begin(), changes.entries.end());
}

RC_GTEST_PROP(LedgerProperties, batches_over_snapshots_give_the_same_books_as_one_ledger, ()) {
  const std::vector<Step> script = gen_script(gen_bodies());
  const auto batch_sizes = *rc::gen::container<std::vector<int>>(80, rc::gen::inRange(1, 6));
  std::vector<Entry> entries;
  Ledger whole = funded_ledger(entries);
  Store store{whole.accounts(), whole.transfers(), entries};
  std::size_t next = 0;
  for (std::size_t batch_index = 0; next < script.size(); ++batch_index) {
    const std::size_t end =
        std::min(script.size(), next + static_cast<std::size_t>(batch_sizes.at(batch_index)));
    const std::vector<Step> batch(script.begin() + next, script.begin() + end);
    Ledger ledger = load_batch(store, batch, whole.policy());
    for (const Step& step : batch) RC_ASSERT(run_step(ledger, step) == run_step(whole, step));
    write_batch(store, ledger.take_changes());
    const LedgerChanges whole_changes = whole.take_changes();
    entries.insert(entries.end(), whole_changes.entries.begin(), whole_changes.entries.end());
    next = end;
  }
  RC_ASSERT(store.accounts == whole.accounts());
  RC_ASSERT(store.transfers == whole.transfers());
  RC_ASSERT(store.entries == entries);
}

}  // namespace
}  // namespace maillon
