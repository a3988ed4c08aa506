// Group commit for transfers: the HTTP workers queue their commands per shard and one of them at
// a time writes everything queued in one transaction per community, then wakes the others.
#include <functional>

#include "exchange/invariant.hpp"
#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/log.hpp"
#include "services/common/metrics.hpp"
#include "services/ledger/ledger_service.hpp"

namespace maillon::ledger {

TransferBatcher::TransferBatcher(Db& db, const Outbox& outbox, PolicyCache& policies,
                                 std::size_t shards, Clock clock, Metrics* metrics,
                                 std::size_t pipeline_from)
    : db_(db),
      outbox_(outbox),
      policies_(policies),
      clock_(std::move(clock)),
      metrics_(metrics),
      pipeline_from_(pipeline_from) {
  if (shards == 0) throw std::invalid_argument("the ledger needs at least one batch shard");
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

TransferResult TransferBatcher::submit(const std::string& community_id, LedgerCommand command,
                                       const std::string& actor_id) {
  std::vector<LedgerCommand> one;
  one.push_back(std::move(command));
  return submit_many(community_id, std::move(one), actor_id).front();
}

std::vector<TransferResult> TransferBatcher::submit_many(const std::string& community_id,
                                                         std::vector<LedgerCommand> commands,
                                                         const std::string& actor_id) {
  if (commands.empty() || commands.size() > kTransferBatchItemsMax) {
    throw std::invalid_argument("a submission holds 1 to kTransferBatchItemsMax commands");
  }
  auto waiter = std::make_shared<Waiter>();
  waiter->community_id = community_id;
  waiter->commands = std::move(commands);
  waiter->actor_id = actor_id;
  waiter->request_id = log::request_id();
  // One community always lands on the same shard: its commands keep their arrival order.
  Shard& shard = *shards_[std::hash<std::string>{}(community_id) % shards_.size()];
  std::unique_lock lock(shard.mutex);
  shard.queue.push_back(waiter);
  while (!waiter->done) {
    if (shard.leading) {
      waiter->wake.wait(lock);
      continue;
    }
    shard.leading = true;
    std::vector<std::shared_ptr<Waiter>> batch = take_batch(shard);
    lock.unlock();
    const bool handed_over = lead(shard, batch);
    lock.lock();
    // Those to run again go back to the head of the queue, in their order.
    std::vector<std::shared_ptr<Waiter>> again;
    for (auto& w : batch) {
      if (w->again) {
        w->again = false;
        again.push_back(w);
      } else {
        w->done = true;
        if (w != waiter) w->wake.notify_one();
      }
    }
    shard.queue.insert(shard.queue.begin(), again.begin(), again.end());
    if (!handed_over) shard.leading = false;
    wake_next_leader(shard);
  }
  if (waiter->error) std::rethrow_exception(waiter->error);
  MAILLON_INVARIANT(waiter->results.size() == waiter->commands.size(),
                    "one result per command of the waiter");
  return std::move(waiter->results);
}

void TransferBatcher::wake_next_leader(Shard& shard) {
  if (!shard.leading && !shard.queue.empty()) shard.queue.front()->wake.notify_one();
}

void TransferBatcher::Ticket::settle(bool committed) {
  {
    std::lock_guard lock(mutex_);
    if (committed_) return;
    committed_ = committed;
  }
  settled_.notify_all();
}

bool TransferBatcher::Ticket::committed() {
  std::unique_lock lock(mutex_);
  settled_.wait(lock, [this] { return committed_.has_value(); });
  return *committed_;
}

// Called with the shard locked by its new leader: everything queued, at once. Nobody lingers for
// more: whoever arrives while this batch commits joins the next one, so batches grow with the
// load by themselves (a wait for stragglers only added to every request's time, measured for
// #22). Whole submissions only: a caller's commands are never split between two transactions.
std::vector<std::shared_ptr<TransferBatcher::Waiter>> TransferBatcher::take_batch(Shard& shard) {
  std::vector<std::shared_ptr<Waiter>> batch;
  std::size_t commands = 0;
  while (!shard.queue.empty()) {
    const std::size_t next = shard.queue.front()->commands.size();
    if (!batch.empty() && commands + next > kBatchCommandsMax) break;
    commands += next;
    batch.push_back(std::move(shard.queue.front()));
    shard.queue.pop_front();
  }
  return batch;
}

namespace {
// The failures a batch runs again after (apply_own_transaction, run_community); any other one
// (a guard that found a row changed behind the lock, say) is the callers' answer.
bool runs_again(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::serialization_failure&) {
    return true;
  } catch (const pqxx::deadlock_detected&) {
    return true;
  } catch (const pqxx::broken_connection&) {
    return true;
  } catch (const RaceLost&) {
    return true;
  } catch (...) {
    return false;
  }
}
}  // namespace

bool TransferBatcher::lead(Shard& shard, std::vector<std::shared_ptr<Waiter>>& batch) {
  // Split by community, keeping arrival order inside each.
  std::map<std::string, std::vector<std::shared_ptr<Waiter>>> by_community;
  std::size_t commands = 0;
  for (auto& w : batch) {
    by_community[w->community_id].push_back(w);
    commands += w->commands.size();
  }
  // The pipeline: a batch of one community, large enough (kPipelineCommandsMin), hands the
  // writer's place to the next batch as soon as it is decided, and writes while the next one
  // decides (run_community).
  const bool pipelined = by_community.size() == 1 && commands >= pipeline_from_;
  bool handed_over = false;
  for (auto& [community_id, waiters] : by_community) {
    try {
      run_community(shard, community_id, pipelined, waiters, handed_over);
    } catch (...) {
      const bool again = handed_over && runs_again(std::current_exception());
      for (auto& w : waiters) {
        // Handed over: the place is another's, so the batch cannot run again here; its commands
        // go back to the queue (nothing of them was committed, or RaceLost tells it).
        if (again && ++w->attempts < Db::kMaxAttempts) {
          w->again = true;
        } else {
          w->error = std::current_exception();
        }
      }
      // Whether the transaction committed is unknown: the cache starts again (a handed-over
      // batch's failure reaches the next leader through its ticket instead).
      if (!handed_over) shard.caches[community_id] = AccountCache{};
    }
  }
  return handed_over;
}

namespace {
// Ends the transaction a batch left open after an error, so that the connection goes back to
// the pool clean; a connection that cannot is dropped.
void roll_back(Db::Lease& lease) {
  try {
    pqxx::nontransaction tx(lease.conn());
    tx.exec("ROLLBACK");
  } catch (const std::exception&) {
    lease.discard();
  }
}
}  // namespace

// As Db::transact, but the batch sends BEGIN with its lock and COMMIT with its writes: two
// round trips instead of four, which is most of a small batch's time (Batch::owns_transaction).
BatchOutcome TransferBatcher::apply_own_transaction(Batch& batch, const bool& handed_over) {
  batch.owns_transaction = true;
  for (int attempt = 1;; ++attempt) {
    Db::Lease lease = db_.acquire();
    try {
      BatchOutcome outcome;
      try {
        pqxx::nontransaction tx(lease.conn());
        batch.now_us = clock_.now_us();
        outcome = apply_batch(tx, outbox_, batch, policies_);
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (...) {
        roll_back(lease);
        throw;
      }
      db_.after_commit();
      return outcome;
    } catch (const pqxx::serialization_failure&) {
      if (handed_over || attempt >= Db::kMaxAttempts) throw;
    } catch (const pqxx::deadlock_detected&) {
      if (handed_over || attempt >= Db::kMaxAttempts) throw;
    } catch (const pqxx::broken_connection&) {
      lease.discard();
      if (handed_over || attempt >= Db::kMaxAttempts) throw;
    }
  }
}

// The pipeline. A leader that has decided its batch (one community) hands the writer's place
// over before writing: the cache takes the balances the batch leaves, marked pending with the
// batch's ticket, and the next leader decides its own batch on them (Batch::foresee) while this
// one writes and commits. The next one's lock waits in PostgreSQL for this commit; it then learns
// from the ticket whether it happened, and keeps what it foresaw only if so (and nobody else
// wrote in between: the batch count). A failure after the hand-over settles the ticket as failed
// (the cache is then dropped by whoever leads) and queues the commands again.
void TransferBatcher::run_community(Shard& shard, const std::string& community_id, bool pipelined,
                                    std::vector<std::shared_ptr<Waiter>>& waiters,
                                    bool& handed_over) {
  AccountCache& cache = shard.caches[community_id];
  std::shared_ptr<Ticket>& pending = shard.pending[community_id];
  Batch batch;
  batch.community_id = community_id;
  batch.cache = &cache;
  for (const auto& w : waiters) {
    for (const auto& command : w->commands) {
      batch.commands.push_back(command);
      if (const auto* create = std::get_if<CreateTransfer>(&command)) {
        batch.actor_ids.try_emplace(create->request.id, w->actor_id);
      }
      if (!w->request_id.empty()) {
        batch.request_ids.try_emplace(command_transfer_id(command), w->request_id);
      }
    }
  }
  if (careful_batches_.load() > 0) {
    careful_batches_.fetch_sub(1);
  } else {
    batch.assume_new_ids = true;
  }
  const auto ticket = std::make_shared<Ticket>();
  // However this ends, a batch handed over without a commit is settled as failed.
  const std::unique_ptr<Ticket, void (*)(Ticket*)> unsettled(ticket.get(),
                                                             [](Ticket* t) { t->settle(false); });
  batch.foresee = pipelined;
  batch.after_lock = [&] {
    // The batch before, handed over: its balances stand only if it committed.
    if (pending && !std::exchange(pending, nullptr)->committed()) cache = AccountCache{};
  };
  if (pipelined) {
    batch.before_writes = [&](const BatchOutcome& outcome) {
      keep_accounts(cache, outcome);
      pending = ticket;
      handed_over = true;
      std::lock_guard lock(shard.mutex);
      shard.leading = false;
      wake_next_leader(shard);
    };
  }
  for (int attempt = 1;; ++attempt) {
    try {
      const BatchOutcome outcome = apply_own_transaction(batch, handed_over);
      MAILLON_INVARIANT(outcome.results.size() == batch.commands.size(),
                        "one result per command of the batch");
      if (handed_over) {
        ticket->settle(true);
      } else {
        keep_accounts(cache, outcome);
      }
      if (metrics_ != nullptr) {
        metrics_->inc("maillon_ledger_batch_commits_total");
        if (outcome.foreseen) metrics_->inc("maillon_ledger_batches_foreseen_total");
        metrics_->inc("maillon_ledger_batched_requests_total", "",
                      static_cast<double>(waiters.size()));
        metrics_->inc("maillon_ledger_batched_commands_total", "",
                      static_cast<double>(batch.commands.size()));
      }
      auto next = outcome.results.begin();
      for (auto& w : waiters) {
        w->results.assign(next, next + static_cast<std::ptrdiff_t>(w->commands.size()));
        next += static_cast<std::ptrdiff_t>(w->commands.size());
      }
      return;
    } catch (const RaceLost&) {
      if (handed_over || batch.assume_new_ids) {
        // An id existed (a retry, or another replica's): run again reading every id, which
        // answers the retry with its first result and does not count as a lost race.
        careful_batches_.store(kCarefulBatchesAfterClash);
        if (handed_over) throw;  // queued again by lead
        batch.assume_new_ids = false;
        --attempt;
        continue;
      }
      // The retry reads the id the other replica created and answers from it.
      if (attempt >= kBatchRaceRetriesMax) throw;
    }
  }
}

}  // namespace maillon::ledger
