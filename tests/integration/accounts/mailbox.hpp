// A real SMTP server for the accounts tests (Debian's python3-aiosmtpd, writing a Maildir), and
// reading what it caught: the mails of one recipient and kind, and the token of a mailed link.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/auth_http.hpp"
#include "harness.hpp"

namespace maillon::testing::accounts {

struct CaughtMail {
  std::string file;
  std::string raw;  // the whole message as the server stored it

  // A header's value (first occurrence, unfolded), or "".
  std::string header(const std::string& name) const {
    std::istringstream in(raw);
    std::string line, value;
    bool found = false;
    const std::string wanted = lowered(name) + ":";
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;  // end of the headers
      if (found) {
        if (line[0] == ' ' || line[0] == '\t') {
          value += line;
          continue;
        }
        break;
      }
      if (lowered(line.substr(0, wanted.size())) == wanted) {
        found = true;
        value = line.substr(wanted.size());
      }
    }
    value.erase(0, value.find_first_not_of(" \t"));
    return value;
  }
  // The token of the first link to `page` ("/verifier", "/reinitialiser", "/email"), or "".
  std::string token_for(const std::string& public_url, const std::string& page) const {
    const std::regex link(
        std::regex_replace(public_url + page, std::regex(R"([.?*+^$()\[\]{}|\\])"), R"(\$&)") +
        R"(\?token=([A-Za-z0-9_-]+))");
    std::smatch m;
    if (!std::regex_search(raw, m, link)) return "";
    return m[1].str();
  }

 private:
  static std::string lowered(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
};

class SmtpCatcher {
 public:
  SmtpCatcher()
      : dir_(std::filesystem::temp_directory_path() / ("maillon-mail-" + unique_suffix())),
        port_(free_port()) {
    for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(dir_ / sub);
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:" + std::to_string(port_);
      ::execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen.c_str(), "-c",
              "aiosmtpd.handlers.Mailbox", dir_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready once it accepts a connection.
    const bool up = eventually(
        [&] {
          const int fd = auth::connect_from("127.0.0.1", url_for_connect());
          if (fd < 0) return false;
          ::close(fd);
          return true;
        },
        10'000, 50);
    if (!up) throw std::runtime_error("the SMTP catcher (python3 -m aiosmtpd) did not start");
  }
  ~SmtpCatcher() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  SmtpCatcher(const SmtpCatcher&) = delete;
  SmtpCatcher& operator=(const SmtpCatcher&) = delete;

  std::string smtp_url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::string maildir() const { return dir_.string(); }

  // Every mail to `to` of `kind` (X-Maillon-Kind) caught so far.
  std::vector<CaughtMail> mails(const std::string& to, const std::string& kind) const {
    return read_maildir(maildir(), to, kind);
  }

  static std::vector<CaughtMail> read_maildir(const std::string& maildir, const std::string& to,
                                              const std::string& kind) {
    std::vector<CaughtMail> out;
    const auto dir = std::filesystem::path(maildir) / "new";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::ifstream in(entry.path(), std::ios::binary);
      CaughtMail m{entry.path().string(), std::string(std::istreambuf_iterator<char>(in), {})};
      if (m.header("X-Maillon-Kind") == kind && m.header("To").find(to) != std::string::npos) {
        out.push_back(std::move(m));
      }
    }
    return out;
  }

  // Waits for the first mail to `to` of `kind`.
  std::optional<CaughtMail> wait_for(const std::string& to, const std::string& kind,
                                     int timeout_ms = 10'000) const {
    std::optional<CaughtMail> found;
    eventually(
        [&] {
          auto all = mails(to, kind);
          if (all.empty()) return false;
          found = all.front();
          return true;
        },
        timeout_ms, 50);
    return found;
  }

 private:
  std::string url_for_connect() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::filesystem::path dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace maillon::testing::accounts
