// Group commit for transfers: the HTTP workers queue their commands per shard and one of them at
// a time writes everything queued in one transaction per community, then wakes the others.
#include <functional>

#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/ledger/ledger_service.hpp"

namespace maillon::ledger {

TransferBatcher::TransferBatcher(Db& db, const Outbox& outbox, PolicyCache& policies,
                                 std::size_t shards)
    : db_(db), outbox_(outbox), policies_(policies) {
  if (shards == 0) throw std::invalid_argument("the ledger needs at least one batch shard");
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

TransferResult TransferBatcher::submit(const std::string& community_id, LedgerCommand command,
                                       const std::string& actor_id) {
  auto waiter = std::make_shared<Waiter>();
  waiter->community_id = community_id;
  waiter->command = std::move(command);
  waiter->actor_id = actor_id;
  // One community always lands on the same shard: its commands keep their arrival order.
  Shard& shard = *shards_[std::hash<std::string>{}(community_id) % shards_.size()];
  std::unique_lock lock(shard.mutex);
  shard.queue.push_back(waiter);
  while (!waiter->done) {
    if (shard.leading) {
      shard.finished.wait(lock);
      continue;
    }
    shard.leading = true;
    std::vector<std::shared_ptr<Waiter>> batch;
    while (!shard.queue.empty() && batch.size() < kBatchCommandsMax) {
      batch.push_back(std::move(shard.queue.front()));
      shard.queue.pop_front();
    }
    lock.unlock();
    lead(batch);
    lock.lock();
    for (auto& w : batch) w->done = true;
    shard.leading = false;
    shard.finished.notify_all();
  }
  if (waiter->error) std::rethrow_exception(waiter->error);
  return waiter->result;
}

void TransferBatcher::lead(std::vector<std::shared_ptr<Waiter>>& batch) {
  // Split by community, keeping arrival order inside each.
  std::map<std::string, std::vector<std::shared_ptr<Waiter>>> by_community;
  for (auto& w : batch) by_community[w->community_id].push_back(w);
  for (auto& [community_id, waiters] : by_community) {
    try {
      run_community(community_id, waiters);
    } catch (...) {
      for (auto& w : waiters) w->error = std::current_exception();
    }
  }
}

void TransferBatcher::run_community(const std::string& community_id,
                                    std::vector<std::shared_ptr<Waiter>>& waiters) {
  Batch batch;
  batch.community_id = community_id;
  for (const auto& w : waiters) {
    batch.commands.push_back(w->command);
    if (const auto* create = std::get_if<CreateTransfer>(&w->command)) {
      batch.actor_ids.try_emplace(create->request.id, w->actor_id);
    }
  }
  for (int attempt = 1;; ++attempt) {
    try {
      const BatchOutcome outcome = db_.transact([&](pqxx::work& tx) {
        batch.now_us = now_us();
        return apply_batch(tx, outbox_, batch, policies_.get(tx, community_id));
      });
      for (std::size_t i = 0; i < waiters.size(); ++i) waiters[i]->result = outcome.results[i];
      return;
    } catch (const RaceLost&) {
      // The retry reads the id the other replica created and answers from it.
      if (attempt >= kBatchRaceRetriesMax) throw;
    }
  }
}

}  // namespace maillon::ledger
