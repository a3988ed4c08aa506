// Group commit of new listings (see the header). The first caller that finds no batch being
// written becomes its writer (the leader) and takes every creation queued; the others wait and
// are answered when the batch they were in is committed and readable, as a lone creation would be.
#include "services/offers/create_batch.hpp"

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "services/common/db.hpp"
#include "services/common/events.hpp"
#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/common/trace.hpp"
#include "services/offers/context.hpp"

namespace maillon::listings {
namespace {

// While it lives, this thread has no request id and no current span: Outbox::add_written would
// add the leader's to every event of the batch, which each carry their own request's already.
class Untagged {
 public:
  Untagged() : saved_request_id_(log::request_id()), scope_(trace::Context{}) {
    log::set_request_id("");
  }
  ~Untagged() { log::set_request_id(saved_request_id_); }
  Untagged(const Untagged&) = delete;
  Untagged& operator=(const Untagged&) = delete;

 private:
  std::string saved_request_id_;
  trace::Scope scope_;
};

}  // namespace

struct ListingCreator::Pending {
  ListingRow row;
  std::string request_id;  // of the caller's request: its event carries it
  trace::Context trace;    // likewise its span
  State state = State::waiting;
  std::exception_ptr error;
};

std::optional<ListingRow> ListingCreator::create(const ListingContext& context, ListingRow row) {
  Pending mine{std::move(row), log::request_id(), trace::current()};
  std::unique_lock lock(mutex_);
  queue_.push_back(&mine);
  while (mine.state == State::waiting) {
    if (writing_) {
      written_.wait(lock);
      continue;
    }
    writing_ = true;
    const auto taken = static_cast<long>(std::min(queue_.size(), kListingsPerBatchMax));
    const std::vector<Pending*> batch(queue_.begin(), queue_.begin() + taken);
    queue_.erase(queue_.begin(), queue_.begin() + taken);
    lock.unlock();
    std::vector<Outcome> outcomes = write(context, batch);
    lock.lock();
    // Under the lock: the callers read their state under it.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i]->state = outcomes[i].state;
      batch[i]->error = outcomes[i].error;
    }
    writing_ = false;
    written_.notify_all();
  }
  if (mine.state == State::failed) std::rethrow_exception(mine.error);
  if (mine.state == State::refused) return std::nullopt;
  return std::move(mine.row);
}

std::vector<ListingCreator::Outcome> ListingCreator::write(const ListingContext& context,
                                                           const std::vector<Pending*>& batch) {
  try {
    return write_together(context, batch);
  } catch (const std::exception& e) {
    if (batch.size() == 1) return {{State::failed, std::current_exception()}};
    log::warn("listing batch failed: writing its listings one by one", {{"error", e.what()}});
  }
  // One listing that cannot be written (a constraint the domain did not foresee) fails alone.
  std::vector<Outcome> outcomes;
  outcomes.reserve(batch.size());
  for (Pending* pending : batch) outcomes.push_back(write(context, {pending}).front());
  return outcomes;
}

std::vector<ListingCreator::Outcome> ListingCreator::write_together(
    const ListingContext& context, const std::vector<Pending*>& batch) {
  std::set<std::string> distinct;
  std::vector<const ListingRow*> rows;
  for (const Pending* p : batch) {
    distinct.insert(p->row.listing.member_id);
    rows.push_back(&p->row);
  }
  const std::vector<std::string> members(distinct.begin(), distinct.end());
  std::vector<Outcome> outcomes;
  context.service.db.transact([&](pqxx::work& tx) {
    // Serialised with the members' suspensions and erasures as this service learns of them:
    // either that event sees these listings, or the insert sees the standing it recorded.
    lock_members(tx, members);
    const NewListings written = insert_new_listings(tx, rows);
    outcomes.assign(batch.size(), {State::refused, nullptr});  // from the start when retried
    std::vector<Outbox::Written> events;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Pending& p = *batch[i];
      if (written.ids.count(p.row.listing.id) == 0) continue;  // its owner may not post
      outcomes[i].state = State::stored;
      // As stored: the columns' defaults (created_at, updated_at, revision, not hidden).
      p.row.listing.created_at_s = p.row.listing.updated_at_s = written.created_at_s;
      p.row.created_at_us = written.created_at_us;
      p.row.revision = 0;
      p.row.hidden_suspended = p.row.hidden_moderated = false;
      events.push_back(context.published_event(
          p.row, p.request_id, p.trace.valid() ? p.trace.traceparent() : std::string()));
    }
    // One outbox row for the batch (the relay publishes its events one by one).
    Untagged untagged;
    if (!events.empty()) context.service.outbox.add_written(tx, context.config.stream, events);
  });
  // Every caller of the batch then finds its listing in this process's searches.
  context.written();
  return outcomes;
}

}  // namespace maillon::listings
