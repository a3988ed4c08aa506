// Group commit of new listings (issue 22): the creations that arrive while one transaction is
// writing are written together by the next one, each listing with its event in the outbox, and
// every caller is answered only after that commit and after this process's search model has read
// it. One transaction per batch instead of one per listing: the member locks, the standings, the
// BEGIN and COMMIT and the search model's read are paid once per batch.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <vector>

#include "services/offers/repository.hpp"

namespace maillon::listings {

struct ListingContext;

class ListingCreator {
 public:
  // Bounded so that one transaction stays short and its statement list small.
  static constexpr std::size_t kListingsPerBatchMax = 64;

  // Writes `row` (placed, validated: its photos and site checked) and publishes its event;
  // returns it as stored (created_at, revision), or nothing when its owner may not post (a
  // suspension or an erasure recorded before). Throws what the write threw.
  std::optional<ListingRow> create(const ListingContext& context, ListingRow row);

 private:
  enum class State { waiting, stored, refused, failed };
  struct Outcome {
    State state = State::waiting;
    std::exception_ptr error;  // failed: what the write threw
  };
  struct Pending;

  std::mutex mutex_;
  std::condition_variable written_;  // a batch ended: its callers look at their state
  std::deque<Pending*> queue_;       // waiting for the next batch, oldest first
  bool writing_ = false;             // a caller is writing a batch (the leader)

  // One outcome per listing of `batch`, in its order; the rows are completed as stored.
  std::vector<Outcome> write(const ListingContext& context, const std::vector<Pending*>& batch);
  std::vector<Outcome> write_together(const ListingContext& context,
                                      const std::vector<Pending*>& batch);
};

}  // namespace maillon::listings
