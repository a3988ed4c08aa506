// The relay of notify's mail failing, against real PostgreSQL, Redis and SMTP (Debian's aiosmtpd
// writing a Maildir, stopped and started again by the test): down for a full minute, the sender
// keeps every mail, knocks less and less often (its back-off on /metrics), and once the relay is
// back every mail arrives, once (no Message-ID twice); a mail the relay refuses for good is parked
// after repeated refusals, counted on /metrics, and the others still go.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "notify/notify_world.hpp"

namespace maillon::testing {
namespace {

constexpr int64_t kRetryMaxMs = 4'000;  // the back-off ceiling of this suite's notify
constexpr int kSenders = 2;             // the sender threads (MAILLON_MAIL_SENDERS' default)
constexpr auto kOutage = std::chrono::seconds(60);

class NotifyOutageTest : public NotifyFixture {
 protected:
  static void SetUpTestSuite() {
    notify_settings = {{"MAILLON_MAIL_RETRY_MAX_MS", std::to_string(kRetryMaxMs)}};
    NotifyFixture::SetUpTestSuite();
  }
};

TEST_F(NotifyOutageTest, mail_queued_while_the_relay_is_down_a_minute_arrives_after_once) {
  const MemberInfo seeker = verified_member("Yasmine"), lender = verified_member("Hugo");
  post(requests, "/v1/requests", seeker, listing("Cherche perceuse", 50.0700, 3.1900));
  const double parked = metric("maillon_mail_parked_total");
  smtp->stop();
  const auto down_at = std::chrono::steady_clock::now();
  const double retried = metric("maillon_mail_retried_total");
  constexpr int kOffers = 4;
  for (int i = 0; i < kOffers; ++i) {
    post(offers, "/v1/offers", lender,
         listing("Perceuse " + std::to_string(i), 50.0701 + 0.0002 * i, 3.1901));
  }
  // The sender tries, fails, and waits longer each time, up to its ceiling.
  ASSERT_TRUE(eventually(
      [&] {
        return metric("maillon_mail_relay_backoff_seconds") >=
               static_cast<double>(kRetryMaxMs) / 1000.0;
      },
      kMailTimeoutMs));
  EXPECT_GT(metric("maillon_mail_retried_total"), retried + 2);

  // A full minute down: every mail kept, none parked, none in the Maildir.
  eventually([&] { return std::chrono::steady_clock::now() - down_at >= kOutage; },
             2 * static_cast<int>(std::chrono::milliseconds(kOutage).count()), 500);
  const double knocks = metric("maillon_mail_retried_total") - retried;
  const double down_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - down_at).count();
  // Each sender knocks at most once per back-off, the back-off doubling from 200 ms up to
  // kRetryMaxMs (5 steps below it): a sender knocking at every poll (50 ms) would be far above.
  EXPECT_LE(knocks, kSenders * (down_s * 1000.0 / kRetryMaxMs + 6));
  EXPECT_EQ(metric("maillon_mail_queue_depth"), 2.0 * kOffers);
  EXPECT_GT(metric("maillon_mail_oldest_pending_seconds"), 0.0);
  EXPECT_EQ(metric("maillon_mail_parked_total"), parked);
  EXPECT_TRUE(smtp->mails(seeker.email, "match.new").empty());

  // Back: every mail arrives, once.
  smtp->start();
  const auto to_seeker = wait_mails(seeker.email, "match.new", kOffers);
  const auto to_lender = wait_mails(lender.email, "match.new", kOffers);
  EXPECT_EQ(to_seeker.size(), static_cast<std::size_t>(kOffers));
  EXPECT_EQ(to_lender.size(), static_cast<std::size_t>(kOffers));
  std::map<std::string, int> by_id;
  for (const auto* list : {&to_seeker, &to_lender}) {
    for (const auto& m : *list) ++by_id[m.header("Message-ID")];
  }
  EXPECT_EQ(by_id.size(), static_cast<std::size_t>(2 * kOffers));
  for (const auto& [id, count] : by_id) EXPECT_EQ(count, 1) << "Message-ID " << id << " twice";
  EXPECT_TRUE(eventually([&] { return metric("maillon_mail_queue_depth") == 0.0; }));
  EXPECT_TRUE(eventually([&] { return metric("maillon_mail_relay_backoff_seconds") == 0.0; }));
  EXPECT_EQ(metric("maillon_mail_parked_total"), parked);
}

TEST_F(NotifyOutageTest, a_mail_the_relay_refuses_for_good_is_parked_and_the_others_go) {
  // The relay refuses every mail to this address but its verification (RestartableSmtp).
  const MemberInfo closed = verified_member("Refuse"), lender = verified_member("Ambre");
  const double parked = metric("maillon_mail_parked_total");
  const double retried = metric("maillon_mail_retried_total");
  post(requests, "/v1/requests", closed, listing("Cherche une perceuse", 50.1200, 3.2200));
  post(offers, "/v1/offers", lender, listing("Perceuse de chantier", 50.1210, 3.2210));

  ASSERT_EQ(wait_mails(lender.email, "match.new", 1).size(), 1u);
  ASSERT_TRUE(eventually([&] { return metric("maillon_mail_parked_total") >= parked + 1; },
                         kMailTimeoutMs));
  EXPECT_EQ(metric("maillon_mail_parked_total"), parked + 1);
  // Refused MAILLON_MAIL_PERMANENT_FAILURES_MAX (3) times: retried twice, then parked.
  EXPECT_GE(metric("maillon_mail_retried_total"), retried + 2);
  EXPECT_TRUE(smtp->mails(closed.email, "match.new").empty());
  EXPECT_EQ(notifications_of(closed, "match.proposed").size(), 1u);
  EXPECT_TRUE(eventually([&] { return metric("maillon_mail_queue_depth") == 0.0; }));
}

}  // namespace
}  // namespace maillon::testing
