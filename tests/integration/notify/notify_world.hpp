// The notify suites' world (tests/integration/notify/): a members world, the services a match,
// a loan and the depot need, a notify whose clock the test moves, and a real SMTP server
// (Debian's aiosmtpd writing a Maildir) that a test stops and starts again. Each suite deriving
// from NotifyFixture gets its own world (its own database and streams) in SetUpTestSuite.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "accounts/mailbox.hpp"
#include "harness.hpp"
#include "listing_bodies.hpp"
#include "test_clock.hpp"

namespace maillon::testing {

using accounts::CaughtMail;
using accounts::SmtpCatcher;

inline constexpr int kMailTimeoutMs = 30'000;
inline constexpr const char* kPublicUrl = "http://127.0.0.1:8080";

// An SMTP server on a fixed port and Maildir that the test stops and starts again (the relay
// going down for a while).
class RestartableSmtp {
 public:
  RestartableSmtp()
      : dir_(std::filesystem::temp_directory_path() / ("maillon-notify-mail-" + unique_suffix())),
        handler_dir_(dir_.string() + "-handler"),
        port_(free_port()) {
    for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(dir_ / sub);
    std::filesystem::create_directories(handler_dir_);
    std::ofstream(handler_dir_ / "maillon_refusing.py") << kRefusingHandler;
    start();
  }
  ~RestartableSmtp() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    std::filesystem::remove_all(handler_dir_, ignored);
    std::filesystem::remove(dir_.string() + ".log", ignored);
  }
  RestartableSmtp(const RestartableSmtp&) = delete;
  RestartableSmtp& operator=(const RestartableSmtp&) = delete;

  void start() {
    pid_ = accounts::start_smtp_catcher(port_, dir_, "maillon_refusing.RefusingMailbox",
                                        handler_dir_.string());
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::string maildir() const { return dir_.string(); }
  std::vector<CaughtMail> mails(const std::string& to, const std::string& kind) const {
    return SmtpCatcher::read_maildir(maildir(), to, kind);
  }

 private:
  // aiosmtpd's Maildir handler, but a relay that refuses for good (554 after the data, as a full
  // or closed mailbox does) every mail to an address starting with "refuse", account mails aside
  // (the address must be verified to be mailed at all).
  static constexpr const char* kRefusingHandler = R"(import email
from aiosmtpd.handlers import Mailbox

class RefusingMailbox(Mailbox):
    async def handle_DATA(self, server, session, envelope):
        if any(a.lower().startswith("refuse") for a in envelope.rcpt_tos):
            kind = email.message_from_bytes(envelope.content).get("X-Maillon-Kind", "")
            if not kind.startswith("account."):
                return "554 5.7.1 Mailbox closed"
        return await super().handle_DATA(server, session, envelope)
)";
  std::filesystem::path dir_;
  std::filesystem::path handler_dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

class NotifyFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    smtp = new RestartableSmtp();
    // Every process this suite starts inherits the environment: the members service mails its
    // verification links, notify its notifications, all to this server.
    ::setenv("MAILLON_SMTP_URL", smtp->url().c_str(), 1);
    ::setenv("MAILLON_PUBLIC_URL", kPublicUrl, 1);
    ::setenv("MAILLON_MAIL_RETRY_BASE_MS", "200", 1);
    ::setenv("MAILLON_MAIL_RETRY_MAX_MS", "1000", 1);
    ::setenv("MAILLON_MAIL_POLL_MS", "50", 1);
    clock_path = "/tmp/maillon-notify-clock-" + unique_suffix();
    std::ofstream(clock_path) << 0;
    world = new MembersWorld("notify",
                             {{"MAILLON_RATE_LIMIT", "100000"}, {"MAILLON_RATE_BURST", "100000"}});
    community = world->create_community("Roubaix", {{"proposal_days", 7}});
    site = world->create_site(community, "Tiers-lieu de l'Alma", 50.69, 3.17);
    const std::map<std::string, std::string> fast = {{"MAILLON_RATE_LIMIT", "100000"},
                                                     {"MAILLON_RATE_BURST", "100000"}};
    for (auto* p : {&offers, &requests, &matching, &exchange, &depot, &ledger}) {
      const char* name = p == &offers     ? "offers"
                         : p == &requests ? "requests"
                         : p == &matching ? "matching"
                         : p == &exchange ? "exchange"
                         : p == &depot    ? "depot"
                                          : "ledger";  // a loan's cost is held at its accept
      auto env = world->env(fast);
      // The depot's loan notices go round often enough for a test to see them repeat.
      if (p == &depot) env["MAILLON_DEPOT_JOB_INTERVAL_MS"] = "50";
      *p = new ServiceProcess(name, env);
      (*p)->start();
    }
    notify = new ServiceProcess("notify", notify_env());
    notify->start();
  }
  static void TearDownTestSuite() {
    for (auto* p : {notify, ledger, depot, exchange, matching, requests, offers}) delete p;
    delete world;
    delete smtp;
    std::remove(clock_path.c_str());
  }
  static std::map<std::string, std::string> notify_env() {
    auto env = world->env({{"MAILLON_CLOCK_OFFSET_FILE", clock_path},
                           {"MAILLON_NOTIFY_JOB_INTERVAL_MS", "50"},
                           {"MAILLON_RECLAIM_IDLE_MS", "1000"},
                           {"MAILLON_RATE_LIMIT", "100000"},
                           {"MAILLON_RATE_BURST", "100000"}});
    for (const auto& [name, value] : notify_settings) env[name] = value;
    return env;
  }
  // What a suite sets for its notify beyond the above (before NotifyFixture::SetUpTestSuite).
  static inline std::map<std::string, std::string> notify_settings;
  // Notify's clock `offset_s` seconds ahead of the system's.
  static void move_notify_clock_s(int64_t offset_s) { std::ofstream(clock_path) << offset_s; }
  // Waits until the job went round `times` more times.
  static bool job_goes_round(const std::string& job, int times) {
    return maillon::testing::job_goes_round(notify->url(), job, kMailTimeoutMs, times);
  }

  static inline RestartableSmtp* smtp = nullptr;
  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess *offers = nullptr, *requests = nullptr, *matching = nullptr,
                               *exchange = nullptr, *depot = nullptr, *notify = nullptr,
                               *ledger = nullptr;
  static inline std::string community, site, clock_path;

  // Builders ---------------------------------------------------------------------------------

  // A member whose address is verified the way a person does it: the link of the mail. (ASCII
  // names: the address is made of the name, and the catcher refuses non-ASCII addresses.)
  static MemberInfo verified_member(const std::string& name) {
    MemberInfo m = world->register_member(community, name, site);
    std::optional<CaughtMail> mail;
    EXPECT_TRUE(eventually(
        [&] {
          auto all = smtp->mails(m.email, "account.verify");
          if (all.empty()) return false;
          mail = all.front();
          return true;
        },
        kMailTimeoutMs, 50))
        << "no verification mail for " << m.email;
    if (!mail) return m;
    const std::string token = mail->token_for(kPublicUrl, "/verifier");
    auto r = Client(world->members->url()).post("/v1/auth/verify", {{"token", token}});
    EXPECT_EQ(r.status, 200) << r.body;
    return m;
  }
  static Client inbox(const MemberInfo& m) { return Client(notify->url(), m.token); }
  static Json notifications_of(const MemberInfo& m, const std::string& type) {
    Json out = Json::array();
    auto r = inbox(m).get("/v1/notifications?limit=100");
    if (r.status != 200) return out;
    const Json body = r.json();  // held: a range-for over r.json()["items"] would dangle
    for (const auto& n : body["items"]) {
      if (n["type"] == type) out.push_back(n);
    }
    return out;
  }
  static Json listing(const std::string& title, double lat, double lon) {
    return {{"kind", "good"},
            {"mode", "lend"},
            {"category", "perceuses"},
            {"title", title},
            {"location", {{"lat", lat}, {"lon", lon}}},
            {"reach_km", 2}};
  }
  static std::string post(ServiceProcess* service, const std::string& path, const MemberInfo& m,
                          const Json& body) {
    auto r = Client(service->url(), m.token).post(path, body);
    EXPECT_EQ(r.status, 201) << path << ": " << r.body;
    return r.json().value("id", "");
  }
  // A member is known to notify (their address verified) once preferences answer and the
  // member's verification reached it: the first mail proves it, so the tests wait for mails.
  static std::vector<CaughtMail> wait_mails(const std::string& to, const std::string& kind,
                                            std::size_t count, int timeout_ms = kMailTimeoutMs) {
    std::vector<CaughtMail> all;
    eventually(
        [&] {
          all = smtp->mails(to, kind);
          return all.size() >= count;
        },
        timeout_ms, 50);
    return all;
  }
  static std::string unsubscribe_token(const CaughtMail& m) {
    const std::string link = m.header("List-Unsubscribe");
    const auto at = link.find("token=");
    if (at == std::string::npos) return "";
    return link.substr(at + 6, link.find('>', at) - at - 6);
  }
  static double metric(const std::string& name) { return metric_value(notify->url(), name); }
};

}  // namespace maillon::testing
