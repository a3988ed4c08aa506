// The ledger's state machine: creates, posts, voids and expiries applied in memory, in order,
// with the change set a batch writer needs (touched accounts, transfers, new entries).
#include "exchange/ledger.hpp"

#include <algorithm>

#include "exchange/invariant.hpp"
#include "exchange/listing.hpp"

namespace maillon {
namespace {

// PostgreSQL cannot store a NUL in a text: refused here, whatever path the request took.
bool has_nul(const std::string& text) {
  return text.find('\0') != std::string::npos;
}

LedgerOutcome validate_request(const TransferRequest& request) {
  if (request.id.empty() || request.id.size() > kLedgerIdBytesMax || has_nul(request.id)) {
    return LedgerOutcome::invalid_id;
  }
  if (request.amount_minutes <= 0 || request.amount_minutes > kTransferMinutesMax) {
    return LedgerOutcome::invalid_amount;
  }
  // A timeout only makes sense for a hold: an immediate transfer has nothing left to expire.
  if (request.timeout_s < 0 || request.timeout_s > kTransferTimeoutSMax ||
      (request.timeout_s > 0 && !request.pending)) {
    return LedgerOutcome::invalid_timeout;
  }
  const auto memo_chars = utf8_code_points(request.memo);
  if (!memo_chars || *memo_chars > kTransferMemoCharsMax || has_nul(request.memo)) {
    return LedgerOutcome::invalid_memo;
  }
  if (request.ref.size() > kTransferRefBytesMax || has_nul(request.ref)) {
    return LedgerOutcome::invalid_ref;
  }
  if (request.from_account_id == request.to_account_id) return LedgerOutcome::same_account;
  return LedgerOutcome::ok;
}

LedgerOutcome resolved_outcome(TransferState state) {
  switch (state) {
    case TransferState::posted:
      return LedgerOutcome::already_posted;
    case TransferState::voided:
      return LedgerOutcome::already_voided;
    case TransferState::expired:
      return LedgerOutcome::expired;
    case TransferState::pending:
      break;
  }
  MAILLON_INVARIANT(false, "a pending transfer has no resolved outcome");
  return LedgerOutcome::ok;
}

bool is_due(const Transfer& transfer, int64_t now_us) {
  const auto deadline_us = transfer_deadline_us(transfer);
  return deadline_us.has_value() && now_us >= *deadline_us;
}

// What limits bound: how low the payer may go, how high the payee may climb, holds included.
int64_t debit_exposure_minutes(const Account& account) {
  return account.available_minutes();
}
int64_t credit_exposure_minutes(const Account& account) {
  return account.balance_minutes + account.pending_credit_minutes;
}

}  // namespace

std::optional<int64_t> transfer_deadline_us(const Transfer& transfer) {
  if (!transfer.request.pending || transfer.request.timeout_s <= 0) return std::nullopt;
  return transfer.created_at_us + transfer.request.timeout_s * 1'000'000;
}

Ledger::Ledger(CommunityPolicy policy) : policy_(policy) {
  MAILLON_INVARIANT(validate_policy(policy_).empty(), "the ledger needs a valid policy");
}

void Ledger::load_account(const Account& account) {
  MAILLON_INVARIANT(!account.id.empty(), "an account has an id");
  MAILLON_INVARIANT(account.pending_debit_minutes >= 0 && account.pending_credit_minutes >= 0,
                    "pending sums are never negative");
  // A batch loads its accounts in id order: at the end, each goes in without a walk down the tree.
  const std::size_t before = accounts_.size();
  accounts_.emplace_hint(accounts_.end(), account.id, account);
  MAILLON_INVARIANT(accounts_.size() == before + 1, "an account is loaded once");
}

void Ledger::load_transfer(const Transfer& transfer) {
  const TransferRequest& request = transfer.request;
  // Only what every stored transfer satisfies whatever the bounds were when it was accepted.
  MAILLON_INVARIANT(!request.id.empty() && request.amount_minutes > 0 &&
                        request.from_account_id != request.to_account_id,
                    "a stored transfer is well formed");
  MAILLON_INVARIANT(
      transfer.posted_minutes >= 0 && transfer.posted_minutes <= request.amount_minutes,
      "a transfer never moved more than its amount");
  const bool pending = transfer.state == TransferState::pending;
  MAILLON_INVARIANT(!pending || transfer.posted_minutes == 0, "a hold has moved nothing yet");
  // Posting, voiding or expiring a hold touches both accounts, so they must be there first.
  MAILLON_INVARIANT(!pending || (accounts_.contains(request.from_account_id) &&
                                 accounts_.contains(request.to_account_id)),
                    "a pending transfer's accounts are loaded before it");
  const bool inserted = transfers_.emplace(request.id, transfer).second;
  MAILLON_INVARIANT(inserted, "a transfer is loaded once");
  if (const auto deadline_us = transfer_deadline_us(transfer); pending && deadline_us) {
    deadlines_.emplace(*deadline_us, request.id);
  }
}

TransferResult Ledger::create(const TransferRequest& request, int64_t now_us) {
  if (const auto outcome = validate_request(request); outcome != LedgerOutcome::ok) {
    return {outcome, std::nullopt};
  }
  // One walk down the tree: where the id is, or where it goes.
  const auto slot = transfers_.lower_bound(request.id);
  if (slot != transfers_.end() && slot->first == request.id) {
    const bool same_body = slot->second.request == request;
    return {same_body ? LedgerOutcome::exists : LedgerOutcome::exists_with_different_body,
            slot->second};
  }
  return create_checked(request, now_us, slot);
}

TransferResult Ledger::create_checked(const TransferRequest& request, int64_t now_us,
                                      TransferSlot slot) {
  const auto found_from = accounts_.find(request.from_account_id);
  const auto found_to = accounts_.find(request.to_account_id);
  // Credits sent to an erased member would be lost to the community.
  if (found_from == accounts_.end() || found_to == accounts_.end() || found_to->second.closed)
    return {LedgerOutcome::account_not_found, std::nullopt};
  Account& payer = found_from->second;
  Account& payee = found_to->second;
  const int64_t amount_minutes = request.amount_minutes;
  if (!payer.community && debit_exposure_minutes(payer) - amount_minutes < policy_.min_balance) {
    return {LedgerOutcome::insufficient_credits, std::nullopt};
  }
  if (!payee.community && credit_exposure_minutes(payee) + amount_minutes > policy_.max_balance) {
    return {LedgerOutcome::balance_cap, std::nullopt};
  }
  const TransferState state = request.pending ? TransferState::pending : TransferState::posted;
  Transfer& stored =
      transfers_.emplace_hint(slot, request.id, Transfer{request, now_us, state, 0, 0})->second;
  touch_transfer(stored, true);
  if (request.pending) {
    hold(stored, payer, payee);
  } else {
    move(stored, amount_minutes, now_us, payer, payee);
  }
  // The side each check guarded; the other side only moved away from its own limit.
  MAILLON_INVARIANT(payer.community || debit_exposure_minutes(payer) >= policy_.min_balance,
                    "a member's available credits stay at or above min_balance");
  MAILLON_INVARIANT(payee.community || credit_exposure_minutes(payee) <= policy_.max_balance,
                    "a member's balance with holds stays at or below max_balance");
  return {LedgerOutcome::ok, stored};
}

TransferResult Ledger::post(const TransferId& id, std::optional<int64_t> amount_minutes,
                            int64_t now_us) {
  const auto found = transfers_.find(id);
  if (found == transfers_.end()) return {LedgerOutcome::not_found, std::nullopt};
  Transfer& transfer = found->second;
  if (transfer.state != TransferState::pending) {
    return {resolved_outcome(transfer.state), transfer};
  }
  if (is_due(transfer, now_us)) return resolve_expired(transfer, now_us);
  const int64_t posted_minutes = amount_minutes.value_or(transfer.request.amount_minutes);
  if (posted_minutes <= 0) return {LedgerOutcome::invalid_amount, transfer};
  if (posted_minutes > transfer.request.amount_minutes) {
    return {LedgerOutcome::exceeds_pending, transfer};
  }
  auto [from, to] = own_accounts(transfer);
  const int64_t from_exposure_minutes = debit_exposure_minutes(from);
  const int64_t to_exposure_minutes = credit_exposure_minutes(to);
  // The whole hold is released and only the posted part moves: the remainder returns.
  release(transfer, from, to);
  move(transfer, posted_minutes, now_us, from, to);
  MAILLON_INVARIANT(debit_exposure_minutes(from) >= from_exposure_minutes,
                    "posting never lowers room");
  MAILLON_INVARIANT(credit_exposure_minutes(to) <= to_exposure_minutes,
                    "posting never raises exposure");
  return {LedgerOutcome::ok, transfer};
}

TransferResult Ledger::void_transfer(const TransferId& id, int64_t now_us) {
  const auto found = transfers_.find(id);
  if (found == transfers_.end()) return {LedgerOutcome::not_found, std::nullopt};
  Transfer& transfer = found->second;
  if (transfer.state != TransferState::pending) {
    return {resolved_outcome(transfer.state), transfer};
  }
  if (is_due(transfer, now_us)) return resolve_expired(transfer, now_us);
  auto [from, to] = own_accounts(transfer);
  release(transfer, from, to);
  transfer.state = TransferState::voided;
  transfer.resolved_at_us = now_us;
  return {LedgerOutcome::ok, transfer};
}

TransferResult Ledger::apply(const LedgerCommand& command) {
  if (const auto* create_command = std::get_if<CreateTransfer>(&command)) {
    return create(create_command->request, create_command->now_us);
  }
  if (const auto* post_command = std::get_if<PostTransfer>(&command)) {
    return post(post_command->id, post_command->amount_minutes, post_command->now_us);
  }
  const auto& void_command = std::get<VoidTransfer>(command);
  return void_transfer(void_command.id, void_command.now_us);
}

std::vector<Transfer> Ledger::expire(int64_t now_us, std::size_t limit) {
  std::vector<Transfer> expired;
  while (!deadlines_.empty() && expired.size() < limit) {
    const auto& [deadline_us, id] = *deadlines_.begin();
    if (deadline_us > now_us) break;
    Transfer& transfer = transfers_.at(id);
    expired.push_back(*resolve_expired(transfer, now_us).transfer);
  }
  return expired;
}

TransferResult Ledger::resolve_expired(Transfer& transfer, int64_t now_us) {
  MAILLON_INVARIANT(transfer.state == TransferState::pending, "only a hold expires");
  auto [from, to] = own_accounts(transfer);
  release(transfer, from, to);
  transfer.state = TransferState::expired;
  transfer.resolved_at_us = now_us;
  return {LedgerOutcome::expired, transfer};
}

void Ledger::hold(const Transfer& transfer, Account& from, Account& to) {
  const int64_t amount_minutes = transfer.request.amount_minutes;
  touch(from).pending_debit_minutes += amount_minutes;
  touch(to).pending_credit_minutes += amount_minutes;
  if (const auto deadline_us = transfer_deadline_us(transfer)) {
    deadlines_.emplace(*deadline_us, transfer.request.id);
  }
}

void Ledger::release(const Transfer& transfer, Account& from, Account& to) {
  const int64_t amount_minutes = transfer.request.amount_minutes;
  touch(from).pending_debit_minutes -= amount_minutes;
  touch(to).pending_credit_minutes -= amount_minutes;
  MAILLON_INVARIANT(from.pending_debit_minutes >= 0 && to.pending_credit_minutes >= 0,
                    "a release never takes more than was held");
  if (const auto deadline_us = transfer_deadline_us(transfer)) {
    deadlines_.erase({*deadline_us, transfer.request.id});
  }
  touch_transfer(transfer);
}

void Ledger::move(Transfer& transfer, int64_t amount_minutes, int64_t now_us, Account& from,
                  Account& to) {
  MAILLON_INVARIANT(amount_minutes > 0 && amount_minutes <= transfer.request.amount_minutes,
                    "a movement is positive and within the transfer");
  MAILLON_INVARIANT(
      from.id == transfer.request.from_account_id && to.id == transfer.request.to_account_id,
      "a movement is between the transfer's own accounts");
  touch(from);
  touch(to);
  from.balance_minutes -= amount_minutes;
  to.balance_minutes += amount_minutes;
  const TransferRequest& request = transfer.request;
  entries_.push_back({from.id, request.id, -amount_minutes, from.balance_minutes, request.kind,
                      request.ref, to.id, now_us});
  entries_.push_back({to.id, request.id, amount_minutes, to.balance_minutes, request.kind,
                      request.ref, from.id, now_us});
  transfer.state = TransferState::posted;
  transfer.posted_minutes = amount_minutes;
  transfer.resolved_at_us = now_us;
  touch_transfer(transfer);
}

std::pair<Account&, Account&> Ledger::own_accounts(const Transfer& transfer) {
  return {accounts_.at(transfer.request.from_account_id),
          accounts_.at(transfer.request.to_account_id)};
}

Account& Ledger::touch(Account& account) {
  accounts_before_.try_emplace(&account, account);
  return account;
}

void Ledger::touch_transfer(const Transfer& transfer, bool created) {
  if (transfers_touched_.insert(&transfer).second)
    transfers_changed_.push_back({&transfer, created});
}

const Account* Ledger::find_account(const AccountId& id) const {
  const auto found = accounts_.find(id);
  return found == accounts_.end() ? nullptr : &found->second;
}

const Transfer* Ledger::find_transfer(const TransferId& id) const {
  const auto found = transfers_.find(id);
  return found == transfers_.end() ? nullptr : &found->second;
}

bool Ledger::has_changes() const {
  return !accounts_before_.empty() || !transfers_changed_.empty() || !entries_.empty();
}

LedgerChanges Ledger::take_changes() {
  LedgerChanges changes;
  std::vector<std::pair<const Account*, const Account*>> changed;  // (after, before)
  changed.reserve(accounts_before_.size());
  for (const auto& [after, before] : accounts_before_) {
    // A hold voided in the same batch leaves the row as it was: nothing to write.
    if (*after != before) changed.emplace_back(after, &before);
  }
  std::sort(changed.begin(), changed.end(),
            [](const auto& a, const auto& b) { return a.first->id < b.first->id; });
  changes.accounts.reserve(changed.size());
  for (const auto& [after, before] : changed) changes.accounts.push_back({*before, *after});
  changes.transfers.reserve(transfers_changed_.size());
  for (const TouchedTransfer& t : transfers_changed_) {
    changes.transfers.push_back({*t.transfer, t.created});
  }
  changes.entries = std::move(entries_);
  accounts_before_.clear();
  transfers_changed_.clear();
  transfers_touched_.clear();
  entries_.clear();
  return changes;
}

}  // namespace maillon
