// Reaching people, through the nginx gateway (MAILLON_TEST_GATEWAY_URL) with the stack's real
// SMTP catcher (MAILLON_MAIL_DIR): a new offer two streets from a request reaches both members in
// the app and, by default, by mail (match.new, the bucketed distance, a link to the other
// listing); the mail's unsubscribe link, followed (GET) or posted by a mail client in one click
// (RFC 8058), with no login, stops that kind of mail only: a later match is in the app, not in
// the Maildir. Members verify their address by the link of their verification mail, as a person
// does (an unverified address gets no mail but that one).
//
// A depot loan due within a day is reminded once, in the app and by mail: a later round of the
// depot's job (the sign: it reminds a loan lent after the first reminder) tells nothing again.
// Told once however often the jobs run (a loan between members too), the relay down for a minute
// and the daily digests need a clock the test moves and a relay it stops, which a stack does not
// have: tests/integration/notify (its own notify process).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "e2e/e2e_mailbox.hpp"
#include "e2e/e2e_suite.hpp"
#include "services/common/time.hpp"

namespace maillon::testing {
namespace {

using accounts::CaughtMail;

constexpr int kMailTimeoutMs = 30'000;
// A stack's depot looks for loans to remind every MAILLON_DEPOT_JOB_INTERVAL_MS: 5 s on the test
// stacks (script/lib.sh, export_test_job_pace), 30 s by default, which this bound also allows.
constexpr int kDepotRoundTimeoutMs = 120'000;

class E2eNotifyTest : public E2eSuite {
 protected:
  static void SetUpTestSuite() {
    E2eSuite::SetUpTestSuite();
    mailbox = new StackMailbox();
  }
  static void TearDownTestSuite() {
    delete mailbox;
    E2eSuite::TearDownTestSuite();
  }
  static inline StackMailbox* mailbox = nullptr;

  // A member of `c` whose address is verified by the link of the mail. (ASCII names: the address
  // is made of the name, and the catcher refuses non-ASCII addresses.)
  static MemberInfo verified(const GatewayCommunity& c, const std::string& name) {
    const MemberInfo m = gateway->member(c, name);
    const std::string token = mailbox->token(m.email, "account.verify", "/verifier");
    EXPECT_FALSE(token.empty()) << "no account.verify mail to " << m.email;
    auto r = gateway->anonymous().post("/v1/auth/verify", {{"token", token}});
    EXPECT_EQ(r.status, 200) << r.body;
    return m;
  }

  static Json drill(const std::string& title, double lat, double lon) {
    return {{"kind", "good"},
            {"mode", "lend"},
            {"category", "perceuses"},
            {"title", title},
            {"location", {{"lat", lat}, {"lon", lon}}},
            {"reach_km", 2}};
  }
  static std::string publish(const MemberInfo& m, const std::string& path, const Json& body) {
    auto r = as(m).post(path, body);
    EXPECT_EQ(r.status, 201) << path << ": " << r.body;
    return r.status == 201 ? r.json().value("id", "") : "";
  }

  // The member's in-app notifications of `type`, newest first.
  static Json notifications_of(const MemberInfo& m, const std::string& type) {
    Json out = Json::array();
    auto r = as(m).get("/v1/notifications?limit=100");
    if (r.status != 200) return out;
    const Json body = r.json();  // held: a range-for over r.json()["items"] would dangle
    for (const auto& n : body["items"]) {
      if (n["type"] == type) out.push_back(n);
    }
    return out;
  }
  static Json wait_notifications(const MemberInfo& m, const std::string& type, std::size_t count,
                                 int timeout_ms = kMailTimeoutMs) {
    Json seen;
    poll_until(
        [&] {
          seen = notifications_of(m, type);
          return seen.size() >= count;
        },
        timeout_ms);
    return seen;
  }

  // The path and query of the mail's List-Unsubscribe URL: the mail names the public address of
  // the network (MAILLON_PUBLIC_URL); the test sends to its stack's gateway.
  static std::string unsubscribe_path(const CaughtMail& mail) {
    const std::string link = mail.header("List-Unsubscribe");
    const auto path = link.find("/v1/unsubscribe?token=");
    if (path == std::string::npos) return "";
    return link.substr(path, link.find('>', path) - path);
  }
};

TEST_F(E2eNotifyTest, a_new_offer_two_streets_from_a_request_reaches_both_in_the_app_and_by_mail) {
  const GatewayCommunity place = gateway->community("Rue des Arts", trading_policy());
  const MemberInfo seeker = verified(place, "salome"), lender = verified(place, "lucas");
  const std::string request_id =
      publish(seeker, "/v1/requests", drill("Cherche une perceuse", 50.6300, 3.0900));
  // About 210 m away: two streets.
  const std::string offer_id =
      publish(lender, "/v1/offers", drill("Perceuse à percussion", 50.6315, 3.0920));

  // In the app, on both sides, with the bucketed distance.
  const Json to_seeker = wait_notifications(seeker, "match.proposed", 1);
  const Json to_lender = wait_notifications(lender, "match.proposed", 1);
  ASSERT_EQ(to_seeker.size(), 1u) << to_seeker.dump();
  ASSERT_EQ(to_lender.size(), 1u) << to_lender.dump();
  const Json& told = to_seeker[0]["data"];
  EXPECT_EQ(told["offer_id"], offer_id);
  EXPECT_EQ(told["request_id"], request_id);
  EXPECT_EQ(to_lender[0]["data"], told);
  const int64_t distance_m = told["distance_m"].get<int64_t>();
  EXPECT_EQ(distance_m % 100, 0) << distance_m;
  EXPECT_GE(distance_m, 200);
  EXPECT_LE(distance_m, 300);

  // By default by mail too, on both sides: the kind, the distance in words, a link to the other
  // side's listing, and the one-click unsubscribe (RFC 8058).
  const auto seeker_mails = mailbox->wait(seeker.email, "match.new", 1, kMailTimeoutMs);
  const auto lender_mails = mailbox->wait(lender.email, "match.new", 1, kMailTimeoutMs);
  ASSERT_EQ(seeker_mails.size(), 1u);
  ASSERT_EQ(lender_mails.size(), 1u);
  const std::string words = "à environ " + std::to_string(distance_m) + " m";
  for (const auto* mail : {&seeker_mails[0], &lender_mails[0]}) {
    EXPECT_NE(mail->raw.find(words), std::string::npos) << mail->raw;
    EXPECT_FALSE(unsubscribe_path(*mail).empty()) << mail->header("List-Unsubscribe");
    EXPECT_EQ(mail->header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    EXPECT_NE(mail->header("Content-Type").find("multipart/alternative"), std::string::npos);
    EXPECT_NE(mail->raw.find("Lieu de Rue des Arts"), std::string::npos);
  }
  EXPECT_NE(seeker_mails[0].raw.find("/annonces/offre/" + offer_id), std::string::npos);
  EXPECT_NE(seeker_mails[0].raw.find("Perceuse à percussion"), std::string::npos);
  EXPECT_NE(lender_mails[0].raw.find("/annonces/demande/" + request_id), std::string::npos);
  EXPECT_NE(seeker_mails[0].header("Message-ID"), lender_mails[0].header("Message-ID"));
}

TEST_F(E2eNotifyTest, the_mails_link_followed_with_no_login_stops_that_kind_of_mail) {
  const GatewayCommunity place = gateway->community("Rue du Marché", trading_policy());
  const MemberInfo seeker = verified(place, "ines"), lender = verified(place, "noe");
  publish(seeker, "/v1/requests", drill("Cherche une perceuse", 50.6400, 3.0600));
  publish(lender, "/v1/offers", drill("Perceuse sans fil", 50.6412, 3.0618));
  const auto first = mailbox->wait(seeker.email, "match.new", 1, kMailTimeoutMs);
  ASSERT_EQ(first.size(), 1u);

  // The link followed (GET), no session.
  const std::string path = unsubscribe_path(first[0]);
  ASSERT_FALSE(path.empty()) << first[0].header("List-Unsubscribe");
  auto done = gateway->anonymous().get(path);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.json()["kind"], "match.new");
  EXPECT_EQ(done.json()["email"], "off");
  const Json prefs = as(seeker).get("/v1/me/preferences").json();
  EXPECT_EQ(prefs["kinds"]["match.new"]["email"], "off");
  EXPECT_EQ(prefs["kinds"]["match.new"]["in_app"], true);
  EXPECT_EQ(prefs["kinds"]["exchange.update"]["email"], "instant");

  // A later match: in the seeker's app, not in their mail. The other member of that match is
  // mailed (the sign that notify decided it: both sides are told in one transaction).
  const MemberInfo other = verified(place, "yanis");
  publish(other, "/v1/offers", drill("Perceuse visseuse", 50.6405, 3.0610));
  ASSERT_EQ(mailbox->wait(other.email, "match.new", 1, kMailTimeoutMs).size(), 1u);
  EXPECT_EQ(wait_notifications(seeker, "match.proposed", 2).size(), 2u);
  EXPECT_EQ(mailbox->mails(seeker.email, "match.new").size(), 1u);
}

TEST_F(E2eNotifyTest, a_mail_clients_one_click_post_with_no_login_stops_that_kind_of_mail) {
  const GatewayCommunity place = gateway->community("Rue de la Gare", trading_policy());
  const MemberInfo seeker = verified(place, "agathe"), lender = verified(place, "basile");
  publish(seeker, "/v1/requests", drill("Cherche une perceuse", 50.6200, 3.0500));
  publish(lender, "/v1/offers", drill("Perceuse de chantier", 50.6214, 3.0516));
  const auto first = mailbox->wait(lender.email, "match.new", 1, kMailTimeoutMs);
  ASSERT_EQ(first.size(), 1u);

  // What a mail client sends for List-Unsubscribe-Post (RFC 8058): a form POST to the
  // List-Unsubscribe URL, no cookie, no session.
  const std::string path = unsubscribe_path(first[0]);
  ASSERT_FALSE(path.empty()) << first[0].header("List-Unsubscribe");
  auto done = http_request(gateway->url(), "POST", path, "List-Unsubscribe=One-Click",
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.json()["kind"], "match.new");
  EXPECT_EQ(as(lender).get("/v1/me/preferences").json()["kinds"]["match.new"]["email"], "off");

  // A later match: in the lender's app, not in their mail; the new seeker is mailed.
  const MemberInfo other = verified(place, "camille");
  publish(other, "/v1/requests", drill("Besoin d'une perceuse", 50.6210, 3.0510));
  ASSERT_EQ(mailbox->wait(other.email, "match.new", 1, kMailTimeoutMs).size(), 1u);
  EXPECT_EQ(wait_notifications(lender, "match.proposed", 2).size(), 2u);
  EXPECT_EQ(mailbox->mails(lender.email, "match.new").size(), 1u);
  // The seeker of the first match kept theirs.
  EXPECT_EQ(mailbox->mails(seeker.email, "match.new").size(), 1u);
}

TEST_F(E2eNotifyTest, a_depot_loan_due_tomorrow_is_reminded_once_as_the_job_goes_round) {
  const GatewayCommunity place = gateway->community("Ressourcerie", trading_policy());
  const MemberInfo desk = gateway->member(place, "diane");
  gateway->make_staff(place, desk);
  const MemberInfo first = verified(place, "eliane"), second = verified(place, "fabien");
  // An object of the site lent to `who` at the desk, due in twenty hours.
  const auto lend = [&](const MemberInfo& who, const std::string& title) {
    std::string item_id;
    ASSERT_TRUE(poll_until([&] {  // once the depot has heard of the site and its staff
      auto r = as(desk).post("/v1/sites/" + place.site + "/items", {{"category", "perceuses"},
                                                                    {"title", title},
                                                                    {"condition", "good"},
                                                                    {"weight_g", 2000},
                                                                    {"mode", "lend"}});
      item_id = r.status == 201 ? r.json().value("id", "") : "";
      return !item_id.empty();
    }));
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    HttpResult lent;
    ASSERT_TRUE(poll_until([&] {  // once the depot has heard of the borrower
      lent =
          as(desk).post("/v1/items/" + item_id + "/lend",
                        {{"member_id", who.id}, {"due_at", format_rfc3339(now_s + 20 * kHourS)}});
      return lent.status == 200;
    })) << lent.status
        << " " << lent.body;
  };

  lend(first, "Scie sauteuse");
  ASSERT_EQ(wait_notifications(first, "loan.reminder", 1, kDepotRoundTimeoutMs).size(), 1u);
  const auto mailed = mailbox->wait(first.email, "loan.reminder", 1, kDepotRoundTimeoutMs);
  ASSERT_EQ(mailed.size(), 1u);
  EXPECT_NE(mailed[0].raw.find("Scie sauteuse"), std::string::npos);

  // Lent after that reminder: reminded by a later round, which finds the first loan again.
  lend(second, "Ponceuse");
  ASSERT_EQ(mailbox->wait(second.email, "loan.reminder", 1, kDepotRoundTimeoutMs).size(), 1u);
  ASSERT_EQ(wait_notifications(second, "loan.reminder", 1).size(), 1u);
  EXPECT_EQ(notifications_of(first, "loan.reminder").size(), 1u);
  EXPECT_EQ(mailbox->mails(first.email, "loan.reminder").size(), 1u);
}

}  // namespace
}  // namespace maillon::testing
