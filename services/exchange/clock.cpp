// The exchange service's only clock (Unix seconds). MAILLON_CLOCK_OFFSET_FILE (tests only) names
// a file holding seconds added to the system time, so tests expire proposals without sleeping.
#include <cstdlib>
#include <fstream>

#include "services/exchange/exchange_service.hpp"

namespace maillon::exchange {
namespace {

constexpr long long kClockOffsetSMax = 10LL * 366 * 24 * 3600;  // a test never moves further

}  // namespace

Clock clock_from_env() {
  const char* path = std::getenv("MAILLON_CLOCK_OFFSET_FILE");
  if (path == nullptr || *path == '\0') return system_clock_s;
  return [file = std::string(path)] {
    // Read at each call: the test moves time by rewriting the file while the service runs.
    std::ifstream in(file);
    long long offset_s = 0;
    if (!(in >> offset_s) || offset_s < -kClockOffsetSMax || offset_s > kClockOffsetSMax) {
      offset_s = 0;
    }
    return system_clock_s() + offset_s;
  };
}

}  // namespace maillon::exchange
