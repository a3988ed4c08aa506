// The stack's real SMTP catcher as the end-to-end suites read it: the Maildir MAILLON_MAIL_DIR
// (script/test's and restack's aiosmtpd write every message in its new/ directory). Each test
// finds its mails by their recipients (addresses unique per test), so suites share the catcher.
#pragma once

#include <string>
#include <vector>

#include "accounts/mailbox.hpp"
#include "e2e_gateway.hpp"

namespace maillon::testing {

class StackMailbox {
 public:
  StackMailbox() : dir_(required_env("MAILLON_MAIL_DIR")) {}

  const std::string& dir() const { return dir_; }

  // Every mail to `to` of `kind` (X-Maillon-Kind) caught so far.
  std::vector<accounts::CaughtMail> mails(const std::string& to, const std::string& kind) const {
    return accounts::SmtpCatcher::read_maildir(dir_, to, kind);
  }

  // The mails to `to` of `kind` once there are at least `count` (fewer when time ran out).
  std::vector<accounts::CaughtMail> wait(const std::string& to, const std::string& kind,
                                         std::size_t count = 1,
                                         int timeout_ms = kGatewayTimeoutMs) const {
    std::vector<accounts::CaughtMail> all;
    poll_until(
        [&] {
          all = mails(to, kind);
          return all.size() >= count;
        },
        timeout_ms);
    return all;
  }

  // The token of the link to `page` ("/verifier", "/reinitialiser", ...) in a mail to `to` of
  // `kind`, once it has arrived; "" when none came.
  std::string token(const std::string& to, const std::string& kind, const std::string& page) const {
    std::string token;
    poll_until([&] {
      for (const auto& mail : mails(to, kind)) {
        token = mail.token_for("", page);
        if (!token.empty()) return true;
      }
      return false;
    });
    return token;
  }

 private:
  std::string dir_;
};

}  // namespace maillon::testing
