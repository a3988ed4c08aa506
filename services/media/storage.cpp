// The directory store (see storage.hpp).
#include "services/media/storage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "services/common/ids.hpp"

namespace maillon::media {
namespace {

namespace fs = std::filesystem;

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "write");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

class DiskStore final : public PhotoStore {
 public:
  explicit DiskStore(std::string root) : root_(std::move(root)) { fs::create_directories(root_); }

  void put(const std::string& key, std::string_view bytes, std::string_view) override {
    const fs::path target = root_ / key;
    fs::create_directories(target.parent_path());
    const fs::path aside = target.string() + ".tmp-" + new_uuid();
    const int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open");
    try {
      write_all(fd, bytes);
      if (::fsync(fd) != 0) throw std::system_error(errno, std::generic_category(), "fsync");
    } catch (...) {
      ::close(fd);
      ::unlink(aside.c_str());
      throw;
    }
    ::close(fd);
    fs::rename(aside, target);
  }

  std::optional<std::string> get(const std::string& key) override {
    std::ifstream in(root_ / key, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return std::move(bytes).str();
  }

  void remove(const std::string& key) noexcept override {
    std::error_code ignored;
    fs::remove(root_ / key, ignored);
  }

 private:
  fs::path root_;
};

}  // namespace

std::unique_ptr<PhotoStore> disk_store(std::string root) {
  return std::make_unique<DiskStore>(std::move(root));
}

}  // namespace maillon::media
