// The S3-compatible store (see storage.hpp): each file one object of the bucket, addressed
// path-style (<url>/<bucket>/<key>, which MinIO, Garage, Ceph and AWS all accept), every request
// signed with AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4). The payload's SHA-256 is sent in
// x-amz-content-sha256, which S3 requires and curl then signs.
#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "services/media/storage.hpp"

namespace maillon::media {
namespace {

constexpr long kConnectTimeoutMs = 5000;
constexpr long kTransferTimeoutMs = 30000;  // a 10 MiB photo over a slow link to the store

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

size_t collect(char* data, size_t size, size_t count, void* sink) {
  static_cast<std::string*>(sink)->append(data, size * count);
  return size * count;
}

struct Upload {
  std::string_view rest;
};
size_t feed(char* buffer, size_t size, size_t count, void* source) {
  auto* upload = static_cast<Upload*>(source);
  const size_t n = std::min(size * count, upload->rest.size());
  std::copy_n(upload->rest.data(), n, buffer);
  upload->rest.remove_prefix(n);
  return n;
}

struct Reply {
  long status = 0;
  std::string body;
};

class S3Store final : public PhotoStore {
 public:
  explicit S3Store(S3Settings settings) : s_(std::move(settings)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    while (!s_.url.empty() && s_.url.back() == '/') s_.url.pop_back();
  }

  void put(const std::string& key, std::string_view bytes, std::string_view content_type) override {
    const Reply r = send("PUT", key, bytes, content_type);
    if (r.status != 200) {
      throw std::runtime_error("S3 PUT " + key + " answered " + std::to_string(r.status));
    }
  }

  std::optional<std::string> get(const std::string& key) override {
    Reply r = send("GET", key, {}, {});
    if (r.status == 404 || r.status == 403) return std::nullopt;  // 403: no ListBucket right
    if (r.status != 200) {
      throw std::runtime_error("S3 GET " + key + " answered " + std::to_string(r.status));
    }
    return std::move(r.body);
  }

  void remove(const std::string& key) noexcept override {
    try {
      send("DELETE", key, {}, {});
    } catch (...) {
      // Only a photo whose record failed: an orphan object nobody names is harmless.
    }
  }

 private:
  S3Settings s_;

  Reply send(const char* method, const std::string& key, std::string_view body,
             std::string_view content_type) const {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) throw std::runtime_error("curl_easy_init");
    const std::string url = s_.url + "/" + s_.bucket + "/" + key;
    const std::string sigv4 = "aws:amz:" + s_.region + ":s3";
    const std::string user = s_.access_key + ":" + s_.secret_key;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, ("x-amz-content-sha256: " + sha256_hex(body)).c_str());
    if (!content_type.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + std::string(content_type)).c_str());
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(headers,
                                                                      &curl_slist_free_all);
    Reply reply;
    Upload upload{body};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, user.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, kTransferTimeoutMs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
    if (std::string_view(method) == "PUT") {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, &feed);
      curl_easy_setopt(c, CURLOPT_READDATA, &upload);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (std::string_view(method) == "DELETE") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      throw std::runtime_error(std::string("S3 ") + method + " failed: " + curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
  }
};

}  // namespace

std::unique_ptr<PhotoStore> s3_store(S3Settings settings) {
  return std::make_unique<S3Store>(std::move(settings));
}

}  // namespace maillon::media
