// The ledger service: batches of ledger commands applied in one transaction per community, the
// writer that feeds them (group commit), and the registration of routes, consumers and jobs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "exchange/ledger.hpp"
#include "exchange/policy.hpp"
#include "services/common/clock.hpp"

namespace maillon {
class Db;
class Metrics;
class Outbox;
class Service;
}  // namespace maillon

namespace maillon::ledger {

// A batch never grows past this: bounded memory, bounded lock time per transaction.
inline constexpr std::size_t kBatchCommandsMax = 4096;
// Items of one POST /v1/ledger/transfers/batch; a request is never split across transactions.
inline constexpr std::size_t kTransferBatchItemsMax = 1000;
static_assert(kTransferBatchItemsMax <= kBatchCommandsMax);
inline constexpr int kBatchRaceRetriesMax = 5;
// The writer's pipeline (TransferBatcher::run_community) takes batches of at least this many
// commands. Below it, a batch handed over early only halves the next one: twice the commits for
// the same transfers, on two cores that the commits' own work fills (#22: one transfer per
// request from 16 clients made 5.3 transfers a commit pipelined, 7.6 not, and ran 20 to 30 %
// slower pipelined; batch requests of 200 gain from it).
inline constexpr std::size_t kPipelineCommandsMin = 64;
// Communities hash onto this many writers; one community always onto the same one.
inline constexpr std::size_t kBatchShards = 4;
inline constexpr int kExpireBatchMax = 500;     // holds voided per expiry run
inline constexpr int kAllowanceBatchMax = 200;  // members paid per community per allowance run
inline constexpr const char* kEventsStream = "ledger.events";

// Runs `f` on a thread of its own when the work is large enough to pay for one (the batch writer
// then waits on PostgreSQL meanwhile), else on the caller's thread when its result is asked for.
inline constexpr std::size_t kAlongsideFrom = 64;  // rows
template <class F>
std::future<std::invoke_result_t<F>> alongside(std::size_t rows, F f) {
  return std::async(rows >= kAlongsideFrom ? std::launch::async : std::launch::deferred,
                    std::move(f));
}

std::string community_account_id(const std::string& community_id);
// The transfer a command names: a create's new id, or the hold a post or a void settles.
const TransferId& command_transfer_id(const LedgerCommand& command);

// Who settles a transfer, decided by its id alone. A client names its transfers with UUIDs (both
// HTTP endpoints refuse anything else); every id the system mints lives outside that namespace
// (sagas' "exchange:<id>:<n>", "deposit:<item>", "loan:<item>:<n>"; the ledger's own "bonus:..."
// and "allowance:..."), and ledger.commands refuses a UUID. So no client can create a system id
// first (squat a bonus or a saga leg), nor settle one: an id never changes, so neither does its
// owner, and no column nor lookup is needed to know it, even for a transfer not yet created.
bool is_client_transfer_id(std::string_view id);
// The ids the ledger mints: one bonus per member (a replayed registration or approval pays it
// once) and one allowance per member and month ("2026-05").
std::string signup_bonus_transfer_id(const std::string& member_id);
std::string allowance_transfer_id(const std::string& member_id, const std::string& month);
// The member behind an account, or empty for a community account.
std::string member_of_account(const std::string& account_id);
LedgerCommand with_time(LedgerCommand command, int64_t now_us);

// Balances a writer keeps between the batches it applies to one community: they are the
// database's as long as the community's batch count (repo::lock_community) is one past `batch`,
// that is, as long as nobody else (another replica, a consumer, a job) wrote in between.
struct AccountCache {
  std::optional<int64_t> batch;  // the count of the last batch whose balances are kept
  std::unordered_map<AccountId, Account> accounts;
  // Whether these are the balances the batch of count `count` starts from.
  bool current_for(std::optional<int64_t> count) const {
    return batch && count && *batch + 1 == *count;
  }
};
// A cache never holds more accounts than this (it starts again empty).
inline constexpr std::size_t kCachedAccountsMax = 262'144;

struct BatchOutcome;
// The commands of one community applied in one transaction, in order. `actor_ids` names who
// asked for each created transfer (by transfer id).
struct Batch {
  std::string community_id;
  std::vector<LedgerCommand> commands;
  std::vector<TransferId> expire_ids;  // holds the expiry job found due
  std::map<TransferId, std::string> actor_ids;
  int64_t now_us = 0;
  // New transfers' ids are not read first: a client id that exists already makes the insert
  // fall short, or the look-up of the refused creates' ids find it (RaceLost), and the batch runs
  // again reading them. Nearly every id of a busy
  // writer is new, and reading them cost as much as a tenth of the batch.
  bool assume_new_ids = false;
  // Balances to trust when they are current, instead of reading them; apply_batch only reads it.
  const AccountCache* cache = nullptr;
  // `tx` is a nontransaction on a connection outside any transaction: the batch sends BEGIN
  // with its lock and COMMIT with its writes, two round trips fewer (the batch writer's way).
  bool owns_transaction = false;
  // The request each transfer's command came with, when the batch gathers several callers'
  // (the batcher): its event carries that request id, not the leader's.
  std::map<TransferId, std::string> request_ids;
  // The batcher's pipeline (TransferBatcher::run_community). With `foresee` (and a PolicyCache),
  // the batch is decided before its lock on the cache's balances, which may be those of a batch
  // still committing, and kept only if, under the lock, the cache proves current and the policy
  // unchanged: else decided again on what it reads. `after_lock` runs as soon as the lock is
  // held (the batcher learns there whether the batch before committed, and settles the cache);
  // `before_writes` once the outcome is decided, before anything is written.
  bool foresee = false;
  std::function<void()> after_lock;
  std::function<void(const BatchOutcome&)> before_writes;
};
struct BatchOutcome {
  std::vector<TransferResult> results;  // one per command
  bool foreseen = false;                // decided before the lock (Batch::foresee), and kept
  std::vector<Transfer> expired;
  // With a cache: the batch's count, and every account it read or changed as it left them,
  // for the writer to keep once the transaction committed.
  std::optional<int64_t> batch_count;
  std::vector<Account> accounts;
};
// Keeps what a committed batch left (an outcome of a batch run with `cache`).
void keep_accounts(AccountCache& cache, const BatchOutcome& outcome);

// Takes the community's writer lock (one writer per community across replicas), runs the domain
// Ledger on the accounts and transfers the batch names, writes one UPDATE of the accounts, one
// INSERT of transfers, one INSERT of entries and the events, in `tx`. Throws RaceLost if a
// transfer id appeared anyway (the lock makes that a should-not-happen, retried all the same).
struct RaceLost : std::runtime_error {
  RaceLost() : std::runtime_error("a transfer id was created concurrently") {}
};
BatchOutcome apply_batch(pqxx::transaction_base& tx, const Outbox& outbox, const Batch& batch,
                         const CommunityPolicy& policy);
class PolicyCache;
// The same, with the community's policy read together with the lock (no round trip of its own)
// and remembered in `policies`.
BatchOutcome apply_batch(pqxx::transaction_base& tx, const Outbox& outbox, const Batch& batch,
                         PolicyCache& policies);

// Community policies: read from the directory in the caller's transaction (a policy changes with
// community.updated; one primary-key read per batch), and remembered for the HTTP path's checks,
// which have no transaction. The members consumer forgets a policy when it changes; another
// replica's memory is refreshed by its next batch or read of that community.
class PolicyCache {
 public:
  CommunityPolicy get(pqxx::transaction_base& tx, const std::string& community_id);
  // The policy when it was read already, without a transaction (for checks on the HTTP path).
  std::optional<CommunityPolicy> cached(const std::string& community_id);
  // The policy of a stored JSON text (read by the batch with its lock), remembered; the default
  // policy when the community is not known yet (nullopt).
  CommunityPolicy remember(const std::string& community_id,
                           const std::optional<std::string>& stored);
  void forget(const std::string& community_id);

 private:
  std::mutex mutex_;
  std::map<std::string, CommunityPolicy> policies_;
};

// Group commit: callers hand in commands and wait; one of them at a time per shard takes
// everything queued (up to kBatchCommandsMax) and applies it in one transaction per community.
// Whoever arrives during a commit joins the next batch, so batches grow with the load and an
// idle ledger answers without any wait.
class TransferBatcher {
 public:
  // Batches are applied at `clock`'s time (the service's; tests may move it).
  // `pipeline_from`: the fewest commands a batch needs to be pipelined (tests pipeline all).
  TransferBatcher(Db& db, const Outbox& outbox, PolicyCache& policies, std::size_t shards,
                  Clock clock = Clock(), Metrics* metrics = nullptr,
                  std::size_t pipeline_from = kPipelineCommandsMin);
  int64_t now_us() const { return clock_.now_us(); }
  TransferResult submit(const std::string& community_id, LedgerCommand command,
                        const std::string& actor_id);
  // Several commands of one caller, applied in order in the same transaction (at most
  // kTransferBatchItemsMax); one result per command, each as if submitted alone.
  std::vector<TransferResult> submit_many(const std::string& community_id,
                                          std::vector<LedgerCommand> commands,
                                          const std::string& actor_id);

 private:
  struct Waiter {
    std::string community_id;
    std::vector<LedgerCommand> commands;
    std::string actor_id;
    std::string request_id;  // the caller's (log::request_id() at submission)
    bool done = false;
    // Set by a leader whose batch failed after it handed over: queued again (at most
    // Db::kMaxAttempts times), as a batch that still leads would have run it again.
    bool again = false;
    int attempts = 0;
    std::vector<TransferResult> results;
    std::exception_ptr error;
    // Woken (with the shard's mutex) when done, or when the writer's place is free and this
    // waiter heads the queue: nobody else's batch wakes it (a wake-up of every waiter at each
    // commit only woke threads that had nothing to do yet).
    std::condition_variable wake;
  };
  // Whether a batch that handed the writer's place over before its commit did commit.
  class Ticket {
   public:
    void settle(bool committed);  // the first call counts
    bool committed();             // waits for settle
   private:
    std::mutex mutex_;
    std::condition_variable settled_;
    std::optional<bool> committed_;
  };
  struct Shard {
    std::mutex mutex;
    std::deque<std::shared_ptr<Waiter>> queue;
    bool leading = false;
    // By community; only the leader touches them. `pending`: the batch whose balances the cache
    // holds, handed over and maybe not committed yet.
    std::map<std::string, AccountCache> caches;
    std::map<std::string, std::shared_ptr<Ticket>> pending;
  };
  std::vector<std::shared_ptr<Waiter>> take_batch(Shard& shard);  // with shard.mutex held
  // With shard.mutex held: the head of the queue is woken to lead once nobody does.
  static void wake_next_leader(Shard& shard);
  // Returns whether it handed the writer's place over (then it is the next leader's).
  bool lead(Shard& shard, std::vector<std::shared_ptr<Waiter>>& batch);
  void run_community(Shard& shard, const std::string& community_id, bool pipelined,
                     std::vector<std::shared_ptr<Waiter>>& waiters, bool& handed_over);
  BatchOutcome apply_own_transaction(Batch& batch, const bool& handed_over);

  Db& db_;
  const Outbox& outbox_;
  PolicyCache& policies_;
  Clock clock_;
  // maillon_ledger_batch_commits_total / maillon_ledger_batched_commands_total /
  // maillon_ledger_batched_requests_total: how many submissions and commands shared each commit;
  // maillon_ledger_batches_foreseen_total: the commits decided before their lock (the pipeline).
  Metrics* metrics_;
  std::size_t pipeline_from_;
  std::vector<std::unique_ptr<Shard>> shards_;
  // After a batch met an id that existed (a client's retry), this many batches read ids first.
  static constexpr int kCarefulBatchesAfterClash = 32;
  std::atomic<int> careful_batches_{0};
};

// Stream consumers (members, ledger.commands) and periodic jobs (expiry, monthly allowance).
void register_consumers(Service& service, PolicyCache& policies);
// The ledger.commands handler, exposed for tests: applies one command exactly once.
void apply_command_event(pqxx::work& tx, const Outbox& outbox, PolicyCache& policies,
                         const std::string& community_id, const nlohmann::json& data,
                         const std::string& type, const std::string& event_id, int64_t now_us);

void register_service(Service& service);

}  // namespace maillon::ledger
