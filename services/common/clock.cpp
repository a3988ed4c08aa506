// The system clock and the test clock moved through a file.
#include "services/common/clock.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>

namespace maillon {
namespace {

// Microseconds of a decimal number of seconds within kClockOffsetSMax; nullopt when malformed
// (an empty file is what a reader sees between the test's truncation and its write).
std::optional<int64_t> parse_offset_us(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double seconds = std::strtod(begin, &end);
  if (end == begin || errno != 0 || !std::isfinite(seconds) ||
      std::fabs(seconds) > static_cast<double>(kClockOffsetSMax)) {
    return std::nullopt;
  }
  while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r') ++end;
  if (*end != '\0') return std::nullopt;
  return static_cast<int64_t>(std::llround(seconds * 1e6));
}

// Read at every call rather than on a change of modification time: the time stamps of a file
// are only as fine as the kernel's tick, and two writes within one tick must both be seen.
// Production never sets the file, so this costs nothing there.
class OffsetFile {
 public:
  explicit OffsetFile(std::string path) : path_(std::move(path)) {}
  int64_t offset_us() {
    std::ifstream in(path_);
    std::lock_guard lock(mutex_);
    if (!in) {
      last_us_ = 0;  // no file: no offset (the test removed it or has not written it yet)
      return last_us_;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (auto parsed = parse_offset_us(text)) last_us_ = *parsed;
    return last_us_;
  }

 private:
  std::string path_;
  std::mutex mutex_;
  int64_t last_us_ = 0;
};

}  // namespace

int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Clock::Clock() : Clock(system_now_us) {}

Clock::Clock(std::function<int64_t()> now_us)
    : source_(std::make_shared<const std::function<int64_t()>>(std::move(now_us))) {}

Clock Clock::with_offset_file(std::string path) {
  auto file = std::make_shared<OffsetFile>(std::move(path));
  return Clock([file] { return system_now_us() + file->offset_us(); });
}

Clock Clock::from_offset_file(const std::string& path) {
  return path.empty() ? Clock() : with_offset_file(path);
}

int64_t Clock::now_us() const {
  return (*source_)();
}

}  // namespace maillon
