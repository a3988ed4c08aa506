// The time-credit ledger's rules without I/O: accounts, two-phase transfers under client ids,
// balance limits from the community policy, and the entries every posted movement leaves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "exchange/policy.hpp"

namespace maillon {

using AccountId = std::string;
using TransferId = std::string;

// Bounds on everything a client sends, so a batch's memory and arithmetic stay bounded.
inline constexpr int64_t kTransferMinutesMax = 60'000;              // 1000 h, as the policy bound
inline constexpr int64_t kTransferTimeoutSMax = 366LL * 24 * 3600;  // a hold lasts a year at most
inline constexpr std::size_t kLedgerIdBytesMax = 64;
inline constexpr std::size_t kTransferMemoCharsMax = 500;  // characters, not bytes
inline constexpr std::size_t kTransferRefBytesMax = 128;
inline constexpr std::size_t kLedgerExpireBatchMax = 1000;  // holds expired by one expire() call

// One account per member per community, plus the community's own account which issues
// bonuses and allowances: it is exempt from the limits so that balances still sum to 0.
struct Account {
  AccountId id;
  bool community = false;
  int64_t balance_minutes = 0;
  int64_t pending_debit_minutes = 0;
  int64_t pending_credit_minutes = 0;
  // An erased member's account: kept for the history, takes no new transfer to it.
  bool closed = false;
  int64_t available_minutes() const { return balance_minutes - pending_debit_minutes; }
  bool operator==(const Account&) const = default;
};

enum class TransferKind { exchange, bonus, allowance, deposit_reward, loan, manual, correction };
std::string_view to_string(TransferKind kind);
std::optional<TransferKind> transfer_kind_from_string(std::string_view text);

enum class TransferState { pending, posted, voided, expired };
std::string_view to_string(TransferState state);
std::optional<TransferState> transfer_state_from_string(std::string_view text);

// What the client asked for. Its fields are the body compared by idempotency: a retry with the
// same id must carry exactly the same request.
struct TransferRequest {
  TransferId id;
  AccountId from_account_id;
  AccountId to_account_id;
  int64_t amount_minutes = 0;
  bool pending = false;
  int64_t timeout_s = 0;  // only for a pending transfer; 0 means it never times out
  TransferKind kind = TransferKind::exchange;
  std::string memo;
  std::string ref;  // what the transfer pays for (an exchange, an item); copied onto entries
  bool operator==(const TransferRequest&) const = default;
};

// A stored transfer. The request never changes; a pending transfer is resolved once
// (posted, voided or expired) and then never changes again.
struct Transfer {
  TransferRequest request;
  int64_t created_at_us = 0;
  TransferState state = TransferState::posted;
  int64_t posted_minutes = 0;  // what actually moved: the amount, or the posted part of a hold
  int64_t resolved_at_us = 0;  // when it was posted, voided or expired; 0 while pending
  bool operator==(const Transfer&) const = default;
};

// When a pending transfer with a timeout expires: created_at + timeout. Empty otherwise.
std::optional<int64_t> transfer_deadline_us(const Transfer& transfer);

// One side of a posted movement: the payer's entry is negative, the payee's positive.
struct Entry {
  AccountId account_id;
  TransferId transfer_id;
  int64_t amount_minutes = 0;
  int64_t balance_after_minutes = 0;
  TransferKind kind = TransferKind::exchange;
  std::string ref;
  AccountId counterparty_account_id;
  int64_t at_us = 0;
  bool operator==(const Entry&) const = default;
};

// Every answer the ledger gives; the service maps each to an HTTP status in one table.
enum class LedgerOutcome {
  ok,
  exists,                      // same id, same body: the first result, nothing moved again
  exists_with_different_body,  // same id, another body
  invalid_id,
  invalid_amount,
  invalid_timeout,
  invalid_memo,
  invalid_ref,
  same_account,
  account_not_found,
  insufficient_credits,
  balance_cap,
  not_found,
  already_posted,
  already_voided,
  expired,
  exceeds_pending,
};
// The kebab-case slug used as problem type and rejection reason ("insufficient-credits").
std::string_view to_string(LedgerOutcome outcome);
// Whether the client's request stands (ok or exists): the answers a retry may repeat.
bool is_accepted(LedgerOutcome outcome);

// The stored transfer after the command whenever the id names one (also for exists,
// exists_with_different_body, already_*, expired); empty when a create is refused or the id
// is unknown. A refused create stores nothing, so the id stays free for a corrected retry.
struct TransferResult {
  LedgerOutcome outcome = LedgerOutcome::ok;
  std::optional<Transfer> transfer;
  bool operator==(const TransferResult&) const = default;
};

struct CreateTransfer {
  TransferRequest request;
  int64_t now_us = 0;
};
struct PostTransfer {
  TransferId id;
  std::optional<int64_t> amount_minutes;  // empty: post the whole pending amount
  int64_t now_us = 0;
};
struct VoidTransfer {
  TransferId id;
  int64_t now_us = 0;
};
using LedgerCommand = std::variant<CreateTransfer, PostTransfer, VoidTransfer>;

// What a batch changed, for the writer: `before` lets it guard its UPDATE; `created` tells an
// INSERT of a transfer from an UPDATE of its state.
struct AccountChange {
  Account before;
  Account after;
};
struct TransferChange {
  Transfer transfer;
  bool created = false;
};
struct LedgerChanges {
  std::vector<AccountChange> accounts;    // ordered by account id
  std::vector<TransferChange> transfers;  // in the order they were first changed
  std::vector<Entry> entries;             // in the order they were made
};

// The ledger of one community, in memory. Used whole (tests) or as a batch: load the
// accounts a batch touches, the transfers it names (holds to post or void, ids it creates),
// apply the commands in order, then take_changes() and write them in one transaction.
// Results depend only on the loaded state and the commands: no clock, no randomness.
class Ledger {
 public:
  explicit Ledger(CommunityPolicy policy);
  // Moved, never copied: what changed is tracked by the address of the maps' nodes, which a move
  // keeps (and nothing is ever erased from them).
  Ledger(Ledger&&) = default;
  Ledger& operator=(Ledger&&) = default;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Each account and transfer is loaded once, accounts first: a pending transfer needs both
  // its accounts loaded before it (its post, void or expiry touches them). Broken = abort.
  void load_account(const Account& account);
  void load_transfer(const Transfer& transfer);

  TransferResult create(const TransferRequest& request, int64_t now_us);
  TransferResult post(const TransferId& id, std::optional<int64_t> amount_minutes, int64_t now_us);
  TransferResult void_transfer(const TransferId& id, int64_t now_us);
  TransferResult apply(const LedgerCommand& command);
  // Voids (state expired) the loaded pending transfers whose deadline is at or before now,
  // earliest first, at most `limit` of them; returns them.
  std::vector<Transfer> expire(int64_t now_us, std::size_t limit = kLedgerExpireBatchMax);

  const CommunityPolicy& policy() const { return policy_; }
  const Account* find_account(const AccountId& id) const;
  const Transfer* find_transfer(const TransferId& id) const;
  const std::map<AccountId, Account>& accounts() const { return accounts_; }
  const std::map<TransferId, Transfer>& transfers() const { return transfers_; }

  bool has_changes() const;
  // Hands over everything changed since the last call and starts tracking afresh.
  LedgerChanges take_changes();

 private:
  using TransferSlot = std::map<TransferId, Transfer>::iterator;
  // `slot`: where the new id goes in transfers_ (a hint: lower_bound's answer).
  TransferResult create_checked(const TransferRequest& request, int64_t now_us, TransferSlot slot);
  TransferResult resolve_expired(Transfer& transfer, int64_t now_us);
  // `from` and `to`: the transfer's own accounts, found once by the caller.
  void hold(const Transfer& transfer, Account& from, Account& to);
  void release(const Transfer& transfer, Account& from, Account& to);
  void move(Transfer& transfer, int64_t amount_minutes, int64_t now_us, Account& from, Account& to);
  // The accounts a loaded transfer moves between (payer, payee): both are loaded before it.
  std::pair<Account&, Account&> own_accounts(const Transfer& transfer);
  Account& touch(Account& account);  // its first-touch copy kept: returns it
  void touch_transfer(const Transfer& transfer, bool created = false);

  CommunityPolicy policy_;
  std::map<AccountId, Account> accounts_;
  std::map<TransferId, Transfer> transfers_;
  std::set<std::pair<int64_t, TransferId>> deadlines_;  // pending holds with a timeout
  // Since the last take: each touched account's first-touch copy, and the transfers changed in
  // the order they were first changed (whether created), by node: a batch touches thousands, and
  // hashing an address costs less than comparing ids down a tree.
  struct TouchedTransfer {
    const Transfer* transfer;
    bool created;
  };
  std::unordered_map<const Account*, Account> accounts_before_;
  std::vector<TouchedTransfer> transfers_changed_;
  std::unordered_set<const Transfer*> transfers_touched_;
  std::vector<Entry> entries_;
};

}  // namespace maillon
