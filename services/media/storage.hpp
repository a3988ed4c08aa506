// Where photo files go. Development and single-machine installs keep them in a directory that
// the gateway serves (MAILLON_MEDIA_DIR, .local/media by default); a cluster puts them in an
// S3-compatible store (MAILLON_MEDIA_S3_URL and the rest of S3Settings), from which the media
// service serves them itself (GET /media/<key>: the bucket stays private and no URL expires, so
// answers may carry a year's immutable cache). Files are written once under a key made from an
// unguessable id and never changed, so they may be cached for good.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace maillon::media {

class PhotoStore {
 public:
  virtual ~PhotoStore() = default;
  // Writes `bytes` under `key` ("ab/<uuid>.jpg") in full or not at all; throws on an I/O error.
  virtual void put(const std::string& key, std::string_view bytes,
                   std::string_view content_type) = 0;
  // The bytes under `key`, nothing when there are none; throws when the store cannot answer.
  virtual std::optional<std::string> get(const std::string& key) = 0;
  // Removes `key` if it is there (a photo whose record could not be written).
  virtual void remove(const std::string& key) noexcept = 0;
};

struct S3Settings {
  std::string url;  // http(s)://host[:port] of the store, the bucket addressed path-style
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
};

// Files under `root`, each written aside then renamed, so that the gateway never serves half.
std::unique_ptr<PhotoStore> disk_store(std::string root);
// Objects of an existing bucket, each request signed with AWS Signature V4 (s3_store.cpp).
std::unique_ptr<PhotoStore> s3_store(S3Settings settings);

}  // namespace maillon::media
