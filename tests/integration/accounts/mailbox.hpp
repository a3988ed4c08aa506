// A real SMTP server for the accounts tests (Debian's python3-aiosmtpd, writing a Maildir), and
// reading what it caught: the mails of one recipient and kind, and the token of a mailed link.
#pragma once

#include <fcntl.h>
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

// Starts `python3 -m aiosmtpd` on 127.0.0.1:`port`, its `handler` writing into `maildir` (with
// `python_path` on PYTHONPATH when not empty), and returns its pid once it accepts a connection.
// Its output goes to <maildir>.log, never to the test's own: a catcher outliving a crashed test
// would hold ctest's pipe, and ctest would wait for it. One that does not accept within 30 s (a
// loaded machine) is killed, and the call throws.
inline pid_t start_smtp_catcher(uint16_t port, const std::filesystem::path& maildir,
                                const std::string& handler, const std::string& python_path = "") {
  const std::string log = maildir.string() + ".log";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close_range(3, ~0U, 0);
    if (!python_path.empty()) ::setenv("PYTHONPATH", python_path.c_str(), 1);
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    ::execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen.c_str(), "-c",
            handler.c_str(), maildir.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const bool up = eventually(
      [&] {
        const int fd = auth::connect_from("127.0.0.1", "http://127.0.0.1:" + std::to_string(port));
        if (fd < 0) return false;
        ::close(fd);
        return true;
      },
      30'000, 50);
  if (!up) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("the SMTP catcher (python3 -m aiosmtpd) did not start; see " + log);
  }
  return pid;
}

class SmtpCatcher {
 public:
  SmtpCatcher()
      : dir_(std::filesystem::temp_directory_path() / ("maillon-mail-" + unique_suffix())),
        port_(free_port()) {
    for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(dir_ / sub);
    pid_ = start_smtp_catcher(port_, dir_, "aiosmtpd.handlers.Mailbox");
  }
  ~SmtpCatcher() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    std::filesystem::remove(dir_.string() + ".log", ignored);
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
  std::filesystem::path dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace maillon::testing::accounts
