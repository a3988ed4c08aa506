// The decode lane (see decode_lane.hpp).
#include "services/media/decode_lane.hpp"

namespace maillon::media {

DecodeLane::Ticket::Ticket(DecodeLane& lane) : lane_(lane) {
  std::unique_lock lock(lane_.mutex_);
  if (lane_.running_ >= lane_.running_max_) {
    if (lane_.waiting_ >= lane_.waiting_max_) return;  // not admitted: the caller answers 429
    ++lane_.waiting_;
    lane_.freed_.wait(lock, [&] { return lane_.running_ < lane_.running_max_; });
    --lane_.waiting_;
  }
  ++lane_.running_;
  admitted_ = true;
}

DecodeLane::Ticket::~Ticket() {
  if (!admitted_) return;
  {
    std::lock_guard lock(lane_.mutex_);
    --lane_.running_;
  }
  lane_.freed_.notify_one();
}

}  // namespace maillon::media
