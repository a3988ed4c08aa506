// Accounts that recover, through the nginx gateway (MAILLON_TEST_GATEWAY_URL) with the stack's
// real SMTP catcher (MAILLON_MAIL_DIR, read in its new/ directory): the verification mail of a
// registration and its working link; forgot password → the reset mail → the new password works,
// the old one and every old session do not; an e-mail change confirmed from the new address;
// the list of one's sessions and ending one; a reset for an unknown address answers exactly like
// one for a known address. Each test is a client of its own loopback address.
#include <gtest/gtest.h>

#include "accounts/mailbox.hpp"
#include "auth/auth_http.hpp"
#include "e2e/e2e_mailbox.hpp"
#include "e2e/e2e_suite.hpp"

namespace maillon::testing::accounts {
namespace {

using auth::bearer;
using auth::fresh_address;
using auth::RawResult;
using auth::request_from;

constexpr const char* kPassword = "mot-de-passe-1";

class E2eAccountsTest : public E2eSuite {
 protected:
  static void SetUpTestSuite() {
    E2eSuite::SetUpTestSuite();
    mailbox = new StackMailbox();
    place = gateway->community("Comptes", {{"signup_bonus", 0}});
  }
  static void TearDownTestSuite() {
    delete mailbox;
    E2eSuite::TearDownTestSuite();
  }
  static inline StackMailbox* mailbox = nullptr;
  static inline GatewayCommunity place;

  static MemberInfo member(const std::string& name) { return gateway->member(place, name); }
  static RawResult call(const std::string& method, const std::string& path,
                        const Headers& headers = {}, const Json& body = nullptr,
                        const std::string& from = "127.0.0.1") {
    return request_from(from, gateway->url(), method, path, body.is_null() ? "" : body.dump(),
                        headers);
  }
  static RawResult login(const std::string& email, const std::string& password,
                         const std::string& user_agent = "maillon-e2e") {
    RawResult r;
    poll_until([&] {
      r = request_from(fresh_address(), gateway->url(), "POST", "/v1/auth/login",
                       Json{{"email", email}, {"password", password}}.dump(),
                       {{"User-Agent", user_agent}});
      return r.status != 429;  // the password lane is busy: again in a moment
    });
    return r;
  }
  // The token of the link to `page` in the first mail to `to` of `kind`, once it has arrived.
  static std::string mailed_token(const std::string& to, const std::string& kind,
                                  const std::string& page) {
    return mailbox->token(to, kind, page);
  }
  // Every service behind the gateway sees the session alike: members, exchange and ledger.
  static int status_everywhere(const std::string& token) {
    const int members = call("GET", "/v1/me", bearer(token)).status;
    const int exchange = call("GET", "/v1/exchanges", bearer(token)).status;
    return members == exchange ? members : -1;
  }
};

TEST_F(E2eAccountsTest, registration_mails_a_verification_link_that_works) {
  const auto m = member("verifiee");
  EXPECT_EQ(call("GET", "/v1/me", bearer(m.token)).json()["email_verified"], false);
  const std::string token = mailed_token(m.email, "account.verify", "/verifier");
  ASSERT_FALSE(token.empty()) << "no account.verify mail to " << m.email << " in "
                              << mailbox->dir();
  auto verified = call("POST", "/v1/auth/verify", {}, {{"token", token}});
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(call("GET", "/v1/me", bearer(m.token)).json()["email_verified"], true);
}

TEST_F(E2eAccountsTest, forgot_password_the_mail_the_new_password_and_no_old_session) {
  const auto m = member("oublieuse");
  const std::string other = login(m.email, kPassword).json().value("token", "");
  ASSERT_EQ(status_everywhere(m.token), 200);
  ASSERT_EQ(status_everywhere(other), 200);

  auto asked = call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, fresh_address());
  ASSERT_EQ(asked.status, 202) << asked.body;
  const std::string token = mailed_token(m.email, "account.reset", "/reinitialiser");
  ASSERT_FALSE(token.empty()) << "no account.reset mail to " << m.email;
  auto done = call("POST", "/v1/auth/password-reset/confirm", {},
                   {{"token", token}, {"password", "un-tout-nouveau-mot"}});
  ASSERT_EQ(done.status, 200) << done.body;

  EXPECT_EQ(status_everywhere(m.token), 401);
  EXPECT_EQ(status_everywhere(other), 401);
  EXPECT_EQ(login(m.email, kPassword).status, 401);
  auto fresh = login(m.email, "un-tout-nouveau-mot");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(status_everywhere(fresh.json().value("token", "")), 200);
}

TEST_F(E2eAccountsTest, a_reset_for_an_unknown_address_answers_like_a_known_one) {
  const auto m = member("connue");
  const std::string unknown = "personne." + unique_suffix() + "@e2e.maillon.test";
  auto known = call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, fresh_address());
  auto stranger =
      call("POST", "/v1/auth/password-reset", {}, {{"email", unknown}}, fresh_address());
  EXPECT_EQ(known.status, 202);
  EXPECT_EQ(stranger.status, known.status);
  EXPECT_EQ(stranger.body, known.body);
  EXPECT_EQ(stranger.header("content-type"), known.header("content-type"));
  // The known address gets its mail; by then the unknown one has none.
  ASSERT_FALSE(mailed_token(m.email, "account.reset", "/reinitialiser").empty());
  EXPECT_TRUE(mailbox->mails(unknown, "account.reset").empty());
}

TEST_F(E2eAccountsTest, an_email_change_is_confirmed_from_the_new_address) {
  const auto m = member("demenage");
  const std::string next = "demenage.nouveau." + unique_suffix() + "@e2e.maillon.test";
  auto asked =
      call("POST", "/v1/me/email", bearer(m.token), {{"email", next}, {"password", kPassword}});
  ASSERT_EQ(asked.status, 202) << asked.body;
  const std::string token = mailed_token(next, "account.email-change", "/email");
  ASSERT_FALSE(token.empty()) << "no account.email-change mail to " << next;
  // The notice to the old address is a mail of its own, sent beside the link: wait for it too.
  EXPECT_FALSE(mailbox->wait(m.email, "account.email-change").empty())
      << "no notice to the old address";
  auto confirmed = call("POST", "/v1/auth/email/confirm", {}, {{"token", token}});
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  auto me = call("GET", "/v1/me", bearer(m.token)).json();
  EXPECT_EQ(me["email"], next);
  EXPECT_EQ(me["email_verified"], true);
  EXPECT_EQ(login(next, kPassword).status, 200);
}

TEST_F(E2eAccountsTest, sessions_are_listed_and_one_is_ended_everywhere) {
  const auto m = member("sessions");
  const std::string phone = login(m.email, kPassword, "Telephone/2.0").json().value("token", "");
  auto listed = call("GET", "/v1/me/sessions", bearer(m.token));
  ASSERT_EQ(listed.status, 200) << listed.body;
  std::string phone_id;
  const Json items = listed.json()["items"];  // kept: a temporary's member dies before the loop
  for (const auto& s : items) {
    if (s["user_agent"] == "Telephone/2.0") phone_id = s["id"];
  }
  ASSERT_FALSE(phone_id.empty()) << listed.body;
  ASSERT_EQ(status_everywhere(phone), 200);
  ASSERT_EQ(call("DELETE", "/v1/me/sessions/" + phone_id, bearer(m.token)).status, 204);
  EXPECT_EQ(status_everywhere(phone), 401);
  EXPECT_EQ(status_everywhere(m.token), 200);
}

}  // namespace
}  // namespace maillon::testing::accounts
