// How many photos decode at once, how many may wait, and how many places one member may hold:
// decoding holds a whole image in memory and a core, so a burst of uploads queues here (bounded)
// and what overflows is told to come back (429 with Retry-After), as the password lane does for
// Argon2id hashes (common/http.hpp).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace maillon::media {

class DecodeLane {
 public:
  // `per_member_max`: places (running or waiting) one member may hold at once, so that a member
  // sending many heavy images together cannot hold everybody else's uploads behind theirs.
  DecodeLane(int running_max, std::size_t waiting_max, int per_member_max = 2)
      : running_max_(running_max), waiting_max_(waiting_max), per_member_max_(per_member_max) {}

  // A place in the lane while it lives; `admitted()` false when the queue was full, or when the
  // member already holds per_member_max places.
  class Ticket {
   public:
    Ticket(DecodeLane& lane, const std::string& member_id);
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    bool admitted() const { return admitted_; }

   private:
    DecodeLane& lane_;
    std::string member_id_;
    bool admitted_ = false;
  };

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  int running_ = 0;
  std::size_t waiting_ = 0;
  std::map<std::string, int> held_;  // places held per member (running or waiting)
  const int running_max_;
  const std::size_t waiting_max_;
  const int per_member_max_;
};

}  // namespace maillon::media
