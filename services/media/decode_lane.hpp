// How many photos decode at once, and how many may wait: decoding holds a whole image in memory
// and a core, so a burst of uploads queues here (bounded) and what overflows is told to come back
// (429 with Retry-After), as the password lane does for Argon2id hashes (common/http.hpp).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace maillon::media {

class DecodeLane {
 public:
  DecodeLane(int running_max, std::size_t waiting_max)
      : running_max_(running_max), waiting_max_(waiting_max) {}

  // A place in the lane while it lives; `admitted()` false when the queue was full.
  class Ticket {
   public:
    explicit Ticket(DecodeLane& lane);
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    bool admitted() const { return admitted_; }

   private:
    DecodeLane& lane_;
    bool admitted_ = false;
  };

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  int running_ = 0;
  std::size_t waiting_ = 0;
  const int running_max_;
  const std::size_t waiting_max_;
};

}  // namespace maillon::media
