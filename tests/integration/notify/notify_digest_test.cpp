// The daily digests, against real PostgreSQL, Redis and SMTP (aiosmtpd writing a Maildir), with
// notify's clock moved to the next days: a member who chose the digest for a kind gets no mail
// the day things happen, then one mail with the day's items, once however often the job goes
// round; what arrives after that day's digest waits for the next one. The desk's staff get one
// digest a day of their site's disputes (desk.digest), beside the instant desk.dispute mail; a
// dispute between neighbours (no site) is told to the proposer's home desk.
#include <gtest/gtest.h>

#include <string>

#include "notify/notify_world.hpp"

namespace maillon::testing {
namespace {

constexpr int kRuns = 10;  // rounds of the digest job that must change nothing
constexpr const char* kDigestJob = "notify-digests";

class NotifyDigestTest : public NotifyFixture {
 protected:
  void TearDown() override { move_notify_clock_s(0); }

  // The receiver proposes on the provider's offer, the provider accepts, the receiver disputes:
  // the exchange's id ("" when a step failed).
  static std::string disputed_exchange(const MemberInfo& provider, const MemberInfo& receiver,
                                       const std::string& offer_id) {
    const Client as_provider(exchange->url(), provider.token),
        as_receiver(exchange->url(), receiver.token);
    std::string id;
    EXPECT_TRUE(eventually(
        [&] {  // once the exchange service has heard of the offer
          auto r = as_receiver.post("/v1/exchanges", {{"offer_id", offer_id}});
          id = r.status == 201 ? r.json().value("id", "") : "";
          return !id.empty();
        },
        kMailTimeoutMs));
    const std::string path = "/v1/exchanges/" + id;
    auto accepted = as_provider.post(path + "/accept");
    EXPECT_EQ(accepted.status, 202) << accepted.body;
    EXPECT_TRUE(
        eventually([&] { return as_provider.get(path).json().value("state", "") == "accepted"; },
                   kMailTimeoutMs))
        << as_provider.get(path).body;
    auto disputed = as_receiver.post(path + "/dispute", {{"reason", "Le cours n'a pas eu lieu"}});
    EXPECT_EQ(disputed.status, 200) << disputed.body;
    return disputed.status == 200 ? id : std::string();
  }
};

TEST_F(NotifyDigestTest, a_member_who_chose_the_digest_gets_one_mail_a_day_of_its_items) {
  const MemberInfo reader = verified_member("Margaux"), lender = verified_member("Theo");
  auto chosen = inbox(reader).call("PUT", "/v1/me/preferences",
                                   Json{{"kinds", {{"match.new", {{"email", "digest"}}}}}}.dump());
  ASSERT_EQ(chosen.status, 200) << chosen.body;
  post(requests, "/v1/requests", reader, listing("Cherche une ponceuse", 50.4500, 3.2500));
  post(offers, "/v1/offers", lender, listing("Ponceuse orbitale", 50.4510, 3.2510));
  post(offers, "/v1/offers", lender, listing("Ponceuse à bande", 50.4505, 3.2520));

  // The lender (instant mail) is told of both at once; the reader sees both in the app only,
  // and today's items wait for tomorrow however often the job goes round.
  ASSERT_EQ(wait_mails(lender.email, "match.new", 2).size(), 2u);
  ASSERT_TRUE(eventually([&] { return notifications_of(reader, "match.proposed").size() == 2; },
                         kMailTimeoutMs));
  ASSERT_TRUE(job_goes_round(kDigestJob, kRuns));
  EXPECT_TRUE(smtp->mails(reader.email, "match.new").empty());

  // The next day (Europe/Paris): one mail with both, however often the job goes round.
  move_notify_clock_s(30 * kHourS);
  auto digests = wait_mails(reader.email, "match.new", 1);
  ASSERT_EQ(digests.size(), 1u);
  EXPECT_NE(digests[0].raw.find("Ponceuse orbitale"), std::string::npos) << digests[0].raw;
  EXPECT_NE(digests[0].raw.find("Ponceuse à bande"), std::string::npos) << digests[0].raw;
  EXPECT_NE(digests[0].raw.find("/notifications"), std::string::npos);
  EXPECT_EQ(digests[0].header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  ASSERT_TRUE(job_goes_round(kDigestJob, kRuns));
  EXPECT_EQ(smtp->mails(reader.email, "match.new").size(), 1u);

  // A match after that day's digest waits for the next day's, however often the job goes round.
  post(offers, "/v1/offers", lender, listing("Ponceuse delta", 50.4502, 3.2505));
  ASSERT_EQ(wait_mails(lender.email, "match.new", 3).size(), 3u);
  ASSERT_TRUE(eventually([&] { return notifications_of(reader, "match.proposed").size() == 3; },
                         kMailTimeoutMs));
  ASSERT_TRUE(job_goes_round(kDigestJob, kRuns));
  EXPECT_EQ(smtp->mails(reader.email, "match.new").size(), 1u);

  move_notify_clock_s(54 * kHourS);
  digests = wait_mails(reader.email, "match.new", 2);
  ASSERT_EQ(digests.size(), 2u);
  const auto& second =
      digests[0].raw.find("Ponceuse delta") != std::string::npos ? digests[0] : digests[1];
  EXPECT_NE(second.raw.find("Ponceuse delta"), std::string::npos);
  EXPECT_EQ(second.raw.find("Ponceuse orbitale"), std::string::npos) << second.raw;
  ASSERT_TRUE(job_goes_round(kDigestJob, kRuns));
  EXPECT_EQ(smtp->mails(reader.email, "match.new").size(), 2u);
}

TEST_F(NotifyDigestTest, the_desk_gets_one_digest_a_day_of_its_sites_disputes) {
  const MemberInfo desk = verified_member("Accueil");
  world->make_staff(site, desk.id);
  const MemberInfo provider = verified_member("Fatou"), receiver = verified_member("Jules");
  const std::string offer_id = post(offers, "/v1/offers", provider, service_offer(30, site));
  const std::string id = disputed_exchange(provider, receiver, offer_id);
  ASSERT_FALSE(id.empty());

  // The desk hears of it at once; its digest keeps it for the next day.
  ASSERT_EQ(wait_mails(desk.email, "desk.dispute", 1).size(), 1u);
  ASSERT_TRUE(job_goes_round(kDigestJob, kRuns));
  EXPECT_TRUE(smtp->mails(desk.email, "desk.digest").empty());
  EXPECT_TRUE(notifications_of(desk, "exchange.disputed").size() == 1u);

  move_notify_clock_s(30 * kHourS);
  const auto digests = wait_mails(desk.email, "desk.digest", 1);
  ASSERT_EQ(digests.size(), 1u);
  EXPECT_NE(digests[0].raw.find("Litige ouvert sur l'échange " + id.substr(0, 8)),
            std::string::npos)
      << digests[0].raw;
  EXPECT_NE(digests[0].raw.find("/desk"), std::string::npos);
  ASSERT_TRUE(job_goes_round(kDigestJob, kRuns));
  EXPECT_EQ(smtp->mails(desk.email, "desk.digest").size(), 1u);
  // Neither party hears of the desk's digest.
  EXPECT_TRUE(smtp->mails(receiver.email, "desk.digest").empty());
  EXPECT_TRUE(smtp->mails(provider.email, "desk.digest").empty());
}

TEST_F(NotifyDigestTest, a_dispute_between_neighbours_is_told_to_the_proposer_s_home_desk) {
  const MemberInfo desk = verified_member("Comptoir");
  world->make_staff(site, desk.id);
  const MemberInfo provider = verified_member("Ines"), receiver = verified_member("Malo");
  // No site on the offer nor the proposal: the receiver's home site is the exchange's desk.
  const std::string offer_id = post(offers, "/v1/offers", provider, service_offer(30));
  const std::string id = disputed_exchange(provider, receiver, offer_id);
  ASSERT_FALSE(id.empty());

  const auto mails = wait_mails(desk.email, "desk.dispute", 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].raw.find("entre membres de votre site"), std::string::npos) << mails[0].raw;
  EXPECT_EQ(notifications_of(desk, "exchange.disputed").size(), 1u);
}

}  // namespace
}  // namespace maillon::testing
