// maillon-media: photos of listings and depot items, re-encoded without their metadata.
// A photo needs a larger request body than the 64 KiB every other service takes.
#include "services/common/run_service.hpp"
#include "services/media/register.hpp"

int main() {
  return maillon::run_service("media", "media", 8089, maillon::media::register_service,
                              maillon::media::kUploadBodyBytesMax);
}
