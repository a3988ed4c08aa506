// One batch of ledger commands in one transaction: take the community's writer lock, let the
// domain Ledger decide, write what changed with one statement per table, queue the events.
#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>

#include "services/common/directory.hpp"
#include "services/common/events.hpp"
#include "services/common/ids.hpp"
#include "services/common/log.hpp"
#include "services/common/outbox_written.hpp"
#include "services/common/policy_json.hpp"
#include "services/common/trace.hpp"
#include "services/ledger/ledger_service.hpp"
#include "services/ledger/repository.hpp"
#include "services/ledger/transfer_json.hpp"

namespace maillon::ledger {
namespace {

using Json = nlohmann::json;
constexpr std::string_view kCommunityPrefix = "community:";

std::vector<TransferId> named_transfers(const Batch& batch) {
  std::set<TransferId> ids(batch.expire_ids.begin(), batch.expire_ids.end());
  for (const auto& command : batch.commands) {
    if (batch.assume_new_ids && std::holds_alternative<CreateTransfer>(command)) continue;
    ids.insert(command_transfer_id(command));
  }
  return {ids.begin(), ids.end()};
}

// The accounts the batch's creates and `transfers` name, each once, in id order: pointers into
// both, which outlive the loading (a batch names thousands: no copy of the ids, no tree).
std::vector<const AccountId*> named_accounts(const Batch& batch,
                                             const std::vector<Transfer>& transfers) {
  std::vector<const AccountId*> ids;
  ids.reserve(2 * (batch.commands.size() + transfers.size()));
  for (const auto& command : batch.commands) {
    if (const auto* create = std::get_if<CreateTransfer>(&command)) {
      ids.push_back(&create->request.from_account_id);
      ids.push_back(&create->request.to_account_id);
    }
  }
  for (const auto& t : transfers) {
    ids.push_back(&t.request.from_account_id);
    ids.push_back(&t.request.to_account_id);
  }
  std::sort(ids.begin(), ids.end(), [](const AccountId* a, const AccountId* b) { return *a < *b; });
  ids.erase(std::unique(ids.begin(), ids.end(),
                        [](const AccountId* a, const AccountId* b) { return *a == *b; }),
            ids.end());
  return ids;
}

struct Loaded {
  Ledger ledger;
  std::optional<int64_t> batch_count;
  std::vector<Account> read;  // the accounts read from the database (not taken from the cache)
};

// Loads `ids` into `loaded`: from `cache` (when given) for those it holds, the others read.
void load_named_accounts(pqxx::transaction_base& tx, const Batch& batch,
                         const std::vector<const AccountId*>& ids, const AccountCache* cache,
                         Loaded& loaded) {
  std::vector<AccountId> missing;
  for (const AccountId* named : ids) {
    const AccountId& id = *named;
    const Account* cached = nullptr;
    if (cache != nullptr) {
      const auto found = cache->accounts.find(id);
      if (found != cache->accounts.end()) cached = &found->second;
    }
    if (cached != nullptr) {
      loaded.ledger.load_account(*cached);
    } else {
      missing.push_back(id);
    }
  }
  loaded.read = repo::load_accounts(tx, batch.community_id, missing);
  for (const auto& a : loaded.read) loaded.ledger.load_account(a);
}

// Reads what the batch names, under the community's writer lock (`locked`) and `policy`: its
// transfers and every account they or the new transfers touch (from the batch's cache when it
// is current). Nothing of it can change before the commit.
Loaded load_locked(pqxx::transaction_base& tx, const Batch& batch,
                   const repo::LockedCommunity& locked, const CommunityPolicy& policy) {
  Loaded loaded{Ledger(policy), locked.batch_count, {}};
  const std::vector<Transfer> transfers =
      repo::load_transfers(tx, batch.community_id, named_transfers(batch));
  const bool current = batch.cache != nullptr && batch.cache->current_for(loaded.batch_count);
  load_named_accounts(tx, batch, named_accounts(batch, transfers), current ? batch.cache : nullptr,
                      loaded);
  for (const auto& t : transfers) loaded.ledger.load_transfer(t);
  return loaded;
}

// Becomes the community's only writer (then lets the batch's owner settle its cache).
repo::LockedCommunity lock(pqxx::transaction_base& tx, const Batch& batch) {
  repo::LockedCommunity locked =
      repo::lock_community(tx, batch.community_id, batch.owns_transaction);
  if (batch.after_lock) batch.after_lock();
  return locked;
}

// The batch's commands applied to what was loaded (no I/O).
struct Decided {
  Loaded loaded;
  std::vector<TransferResult> results;
};
Decided decide(const Batch& batch, Loaded loaded) {
  Decided decided{std::move(loaded), {}};
  decided.results.reserve(batch.commands.size());
  for (const auto& command : batch.commands) {
    decided.results.push_back(decided.loaded.ledger.apply(with_time(command, batch.now_us)));
  }
  return decided;
}

// A batch's outcome worked out before its lock (Batch::foresee): on the balances its cache holds
// for the batch before it, which may still be committing, and on the policy already known. Only
// creates of new ids qualify. An account missing from the cache is read now, outside the lock:
// the batch before changed none of them (it leaves every account it touched in the cache), and
// if anyone else writes before this batch's lock, the count tells.
std::optional<Decided> foresee(pqxx::transaction_base& tx, const Batch& batch,
                               PolicyCache* policies) {
  if (!batch.foresee || policies == nullptr || batch.cache == nullptr || !batch.cache->batch ||
      !batch.assume_new_ids || !batch.expire_ids.empty()) {
    return std::nullopt;
  }
  const bool creates_only =
      std::all_of(batch.commands.begin(), batch.commands.end(),
                  [](const LedgerCommand& c) { return std::holds_alternative<CreateTransfer>(c); });
  if (!creates_only) return std::nullopt;
  const auto policy = policies->cached(batch.community_id);
  if (!policy) return std::nullopt;
  Loaded loaded{Ledger(*policy), *batch.cache->batch + 1, {}};
  load_named_accounts(tx, batch, named_accounts(batch, {}), batch.cache, loaded);
  return decide(batch, std::move(loaded));
}

Outbox::Written event_row(const std::string& community_id, const std::string& occurred_at,
                          const Transfer& t, const std::map<TransferId, std::string>& request_ids) {
  // A transfer reaches each state once, so (community, transfer, state) names its event for good.
  std::string id = uuid_from_name("ledger-event:" + community_id + ":" + t.request.id + ":" +
                                  std::string(to_string(t.state)));
  std::string payload = transfer_event_json(id, community_id, occurred_at, t);
  const auto request = request_ids.find(t.request.id);
  return {std::move(id), std::move(payload),
          request == request_ids.end() ? std::string() : request->second};
}

// A batch that assumed its new ids new did not read them: a create refused by a rule (a cap, the
// payer's floor) may be the retry of a transfer that exists, which must answer its first result.
// Only refused ids are looked up, so the common case (all accepted) costs nothing more.
void require_refused_creates_new(pqxx::transaction_base& tx, const Batch& batch,
                                 const std::vector<TransferResult>& results) {
  std::vector<TransferId> refused;
  for (std::size_t i = 0; i < batch.commands.size(); ++i) {
    const auto* create = std::get_if<CreateTransfer>(&batch.commands[i]);
    if (create != nullptr && !is_accepted(results[i].outcome))
      refused.push_back(create->request.id);
  }
  if (!refused.empty() && !repo::load_transfers(tx, batch.community_id, refused).empty()) {
    throw RaceLost();  // run again reading every id
  }
}

}  // namespace

const TransferId& command_transfer_id(const LedgerCommand& command) {
  if (const auto* create = std::get_if<CreateTransfer>(&command)) return create->request.id;
  if (const auto* post = std::get_if<PostTransfer>(&command)) return post->id;
  return std::get<VoidTransfer>(command).id;
}

std::string community_account_id(const std::string& community_id) {
  return std::string(kCommunityPrefix) + community_id;
}

std::string member_of_account(const std::string& account_id) {
  // A federation's clearing account ("clearing:<ours>:<partner>", federation.hpp) is a
  // community's too: no member behind it.
  return account_id.starts_with(kCommunityPrefix) || account_id.starts_with("clearing:")
             ? std::string()
             : account_id;
}

LedgerCommand with_time(LedgerCommand command, int64_t now_us) {
  std::visit([now_us](auto& c) { c.now_us = now_us; }, command);
  return command;
}

namespace {

// What a decided batch writes, made ready without I/O: for a foreseen batch, before its lock.
// The changes live on the heap: the threads that write their rows and events hold on to them.
struct Ready {
  BatchOutcome outcome;
  std::shared_ptr<const LedgerChanges> changes;
  repo::PreparedWrites writes;
  std::future<std::vector<std::string>> tail;  // the events' rows, and the COMMIT
};

Ready make_ready(const Outbox& outbox, const Batch& batch, Decided decided) {
  Ready ready;
  Loaded& loaded = decided.loaded;
  ready.outcome.results = std::move(decided.results);
  ready.changes = std::make_shared<const LedgerChanges>(loaded.ledger.take_changes());
  const LedgerChanges& changes = *ready.changes;
  if (batch.cache != nullptr) {
    ready.outcome.batch_count = loaded.batch_count;
    ready.outcome.accounts = std::move(loaded.read);
    for (const auto& change : changes.accounts) ready.outcome.accounts.push_back(change.after);
  }
  // The events need the changes only: their text, and the outbox rows' statements, are written
  // while the rest is (for a large batch, on a thread of its own, with this thread's request and
  // span).
  ready.tail = alongside(
      changes.transfers.size(), [&outbox, &batch, changes = ready.changes,
                                 request_id = log::request_id(), context = trace::current()] {
        log::set_request_id(request_id);
        const trace::Scope scope(context);
        std::vector<Outbox::Written> written;
        written.reserve(changes->transfers.size());
        const std::string occurred_at = now_rfc3339();
        for (const auto& change : changes->transfers) {
          written.push_back(
              event_row(batch.community_id, occurred_at, change.transfer, batch.request_ids));
        }
        // The events' rows, and the COMMIT of a batch that owns its transaction, go last.
        std::vector<std::string> statements = outbox.written_statements(kEventsStream, written);
        if (batch.owns_transaction) statements.emplace_back("COMMIT");
        return statements;
      });
  ready.writes = repo::prepare_writes(batch.community_id, changes, batch.actor_ids);
  return ready;
}

// A batch's outcome worked out and made ready before its lock (foresee), kept if, under the lock,
// it proves to start from the database's balances (the cache current: the batch before committed
// and nobody wrote since) under the same policy; else decided again on what is read now.
BatchOutcome apply_locked(pqxx::transaction_base& tx, const Outbox& outbox, const Batch& batch,
                          const CommunityPolicy* policy, PolicyCache* policies) {
  std::optional<Ready> early;
  std::optional<int64_t> early_count;
  std::optional<CommunityPolicy> early_policy;
  if (policy == nullptr) {
    if (std::optional<Decided> decided = foresee(tx, batch, policies)) {
      early_count = decided->loaded.batch_count;
      early_policy = decided->loaded.ledger.policy();
      early = make_ready(outbox, batch, std::move(*decided));
    }
  }
  const repo::LockedCommunity locked = lock(tx, batch);
  // The caller's policy, or the one read with the lock (remembered in `policies`).
  const CommunityPolicy locked_policy =
      policy != nullptr ? *policy : policies->remember(batch.community_id, locked.policy_json);
  std::optional<Ready> ready;
  if (early && batch.cache->current_for(locked.batch_count) && early_count == locked.batch_count &&
      early_policy == locked_policy) {
    ready = std::move(early);
    ready->outcome.foreseen = true;
    if (batch.assume_new_ids) require_refused_creates_new(tx, batch, ready->outcome.results);
  } else {
    early.reset();  // its threads are done with before anything else is decided
    Decided decided = decide(batch, load_locked(tx, batch, locked, locked_policy));
    if (batch.assume_new_ids) require_refused_creates_new(tx, batch, decided.results);
    std::vector<Transfer> expired;
    if (!batch.expire_ids.empty()) expired = decided.loaded.ledger.expire(batch.now_us);
    ready = make_ready(outbox, batch, std::move(decided));
    ready->outcome.expired = std::move(expired);
  }
  // Decided: whoever waits for the balances it leaves may have them now (TransferBatcher).
  if (batch.before_writes) batch.before_writes(ready->outcome);
  mark_outbox_written();  // on this thread, whose commit pokes the relay
  repo::send_writes(tx, batch.community_id, std::move(ready->writes),
                    [&] { return ready->tail.get(); });
  return std::move(ready->outcome);
}

}  // namespace

BatchOutcome apply_batch(pqxx::transaction_base& tx, const Outbox& outbox, const Batch& batch,
                         const CommunityPolicy& policy) {
  return apply_locked(tx, outbox, batch, &policy, nullptr);
}

BatchOutcome apply_batch(pqxx::transaction_base& tx, const Outbox& outbox, const Batch& batch,
                         PolicyCache& policies) {
  return apply_locked(tx, outbox, batch, nullptr, &policies);
}

void keep_accounts(AccountCache& cache, const BatchOutcome& outcome) {
  if (!outcome.batch_count) {
    cache = AccountCache{};
    return;
  }
  // What the cache held is still true only if this batch came right after the one it was from.
  if (!cache.current_for(outcome.batch_count) ||
      cache.accounts.size() + outcome.accounts.size() > kCachedAccountsMax) {
    cache.accounts.clear();
  }
  for (const Account& a : outcome.accounts) cache.accounts.insert_or_assign(a.id, a);
  cache.batch = outcome.batch_count;
}

std::optional<CommunityPolicy> PolicyCache::cached(const std::string& community_id) {
  std::lock_guard lock(mutex_);
  const auto found = policies_.find(community_id);
  if (found == policies_.end()) return std::nullopt;
  return found->second;
}

CommunityPolicy PolicyCache::get(pqxx::transaction_base& tx, const std::string& community_id) {
  const auto stored = directory::policy_of(tx, community_id);
  // A community not seen yet has no accounts either: every command on it finds no account.
  if (!stored) return CommunityPolicy{};
  std::lock_guard lock(mutex_);
  policies_[community_id] = *stored;
  return *stored;
}

CommunityPolicy PolicyCache::remember(const std::string& community_id,
                                      const std::optional<std::string>& stored) {
  // As get: a community not seen yet has no accounts either.
  if (!stored) return CommunityPolicy{};
  FieldErrors errors;
  CommunityPolicy policy = policy_from_json(Json::parse(*stored), errors);
  if (!errors.empty()) throw std::logic_error("a stored community policy is invalid");
  std::lock_guard lock(mutex_);
  policies_[community_id] = policy;
  return policy;
}

void PolicyCache::forget(const std::string& community_id) {
  std::lock_guard lock(mutex_);
  policies_.erase(community_id);
}

}  // namespace maillon::ledger
