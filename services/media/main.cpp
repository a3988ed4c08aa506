// maillon-media: photos of listings and depot items, re-encoded without their metadata.
// Its own main: a photo needs a larger request body than the 64 KiB every other service takes.
#include <algorithm>

#include "services/common/log.hpp"
#include "services/common/service.hpp"
#include "services/media/register.hpp"

int main() {
  using namespace maillon;
  log::set_service("maillon-media");
  try {
    Config config = Config::from_env("maillon-media", "media", 8089);
    config.body_limit_bytes = std::max(config.body_limit_bytes, media::kUploadBodyBytesMax);
    auto service = std::make_unique<Service>(std::move(config));
    media::register_service(*service);
    return service->run();
  } catch (const std::exception& e) {
    log::error("start-up failed", {{"error", e.what()}});
    return 1;
  }
}
