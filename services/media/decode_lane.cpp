// The decode lane (see decode_lane.hpp).
#include "services/media/decode_lane.hpp"

namespace maillon::media {

DecodeLane::Ticket::Ticket(DecodeLane& lane, const std::string& member_id)
    : lane_(lane), member_id_(member_id) {
  std::unique_lock lock(lane_.mutex_);
  int& held = lane_.held_[member_id_];
  if (held >= lane_.per_member_max_) return;  // not admitted: the caller answers 429
  ++held;  // a reference into a std::map stays valid while other members come and go
  if (lane_.running_ >= lane_.running_max_) {
    if (lane_.waiting_ >= lane_.waiting_max_) {
      if (--held == 0) lane_.held_.erase(member_id_);
      return;
    }
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
    if (--lane_.held_[member_id_] == 0) lane_.held_.erase(member_id_);
  }
  lane_.freed_.notify_one();
}

}  // namespace maillon::media
