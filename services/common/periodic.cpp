// PeriodicThread (see the header).
#include "services/common/periodic.hpp"

#include "services/common/log.hpp"

namespace maillon {

void PeriodicThread::start(std::string name, std::chrono::milliseconds interval,
                           std::function<void()> round) {
  stopping_ = false;
  thread_ = std::thread([this, name = std::move(name), interval, round = std::move(round)] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      try {
        round();
      } catch (const std::exception& e) {
        log::warn(name + ": round failed, retrying", {{"error", e.what()}});
      }
      lock.lock();
    }
  });
}

void PeriodicThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace maillon
