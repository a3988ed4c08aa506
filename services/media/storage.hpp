// Where photo files go. Development and single-machine installs keep them in a directory that
// the gateway serves (MAILLON_MEDIA_DIR, .local/media by default); a cluster would put them in an
// S3-compatible store behind the same interface. Files are written once under a key made from an
// unguessable id and never changed, so they may be cached for good.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace maillon::media {

class PhotoStore {
 public:
  virtual ~PhotoStore() = default;
  // Writes `bytes` under `key` ("ab/<uuid>.jpg") in full or not at all; throws on an I/O error.
  virtual void put(const std::string& key, std::string_view bytes,
                   std::string_view content_type) = 0;
  // Removes `key` if it is there (a photo whose record could not be written).
  virtual void remove(const std::string& key) noexcept = 0;
};

// Files under `root`, each written aside then renamed, so that the gateway never serves half.
std::unique_ptr<PhotoStore> disk_store(std::string root);

}  // namespace maillon::media
