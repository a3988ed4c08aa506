// Accounts that recover, against the real members service, PostgreSQL, Redis and a real SMTP
// server (aiosmtpd writing a Maildir): the verification mail of a registration and its link, the
// password reset (single use, one hour by the service's clock, every session ended, the same
// answer for an unknown address, limits), the password change, the e-mail change confirmed on
// the new address, and the list of one's sessions with revocation. A second service (the
// exchange) checks that ended sessions end everywhere at once.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <pqxx/pqxx>

#include "accounts/mailbox.hpp"
#include "auth/auth_http.hpp"
#include "harness.hpp"
#include "services/common/redis.hpp"
#include "test_clock.hpp"

namespace maillon::testing::accounts {
namespace {

using auth::bearer;
using auth::fresh_address;
using auth::RawResult;
using auth::request_from;

constexpr const char* kPassword = "mot-de-passe-1";
constexpr const char* kPublicUrl = "https://maillon.example.fr";

class AccountsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    smtp = new SmtpCatcher();
    clock = new TestClock();
    world = new MembersWorld("accounts", {{"MAILLON_SMTP_URL", smtp->smtp_url()},
                                          {"MAILLON_PUBLIC_URL", kPublicUrl},
                                          {"MAILLON_MAIL_POLL_MS", "50"},
                                          clock->env()});
    community = world->create_community("Lens-Liévin");
    site = world->create_site(community, "Tiers-lieu de Liévin", 50.42, 2.78);
    exchange = new ServiceProcess("exchange", world->env());
    exchange->start();
  }
  static void TearDownTestSuite() {
    delete exchange;
    delete world;
    delete clock;
    delete smtp;
  }

  static inline SmtpCatcher* smtp = nullptr;
  static inline TestClock* clock = nullptr;
  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* exchange = nullptr;
  static inline std::string community, site;

  static MemberInfo member(const std::string& name) {
    return world->register_member(community, name, site);
  }
  static RawResult call(const std::string& method, const std::string& path,
                        const Headers& headers = {}, const Json& body = nullptr,
                        const std::string& from = "127.0.0.1") {
    return request_from(from, world->members->url(), method, path,
                        body.is_null() ? "" : body.dump(), headers);
  }
  static RawResult login(const std::string& email, const std::string& password,
                         const std::string& user_agent = "maillon-test") {
    return request_from(fresh_address(), world->members->url(), "POST", "/v1/auth/login",
                        Json{{"email", email}, {"password", password}}.dump(),
                        {{"User-Agent", user_agent}});
  }
  static std::string token_of(const RawResult& r) { return r.json()["token"].get<std::string>(); }
  // The session works in the members service and in another one (the exchange).
  static bool works_everywhere(const std::string& token) {
    const bool here = call("GET", "/v1/me", bearer(token)).status == 200;
    const bool there =
        request_from("127.0.0.1", exchange->url(), "GET", "/v1/exchanges", "", bearer(token))
            .status == 200;
    return here && there;
  }
  static bool ended_everywhere(const std::string& token) {
    return call("GET", "/v1/me", bearer(token)).status == 401 &&
           request_from("127.0.0.1", exchange->url(), "GET", "/v1/exchanges", "", bearer(token))
                   .status == 401;
  }
  static std::string mailed_token(const std::string& to, const std::string& kind,
                                  const std::string& page) {
    auto mail = smtp->wait_for(to, kind);
    if (!mail) return "";
    return mail->token_for(kPublicUrl, page);
  }
  static long long queued(const std::string& to, const std::string& kind) {
    pqxx::connection conn(world->database);
    pqxx::nontransaction tx(conn);
    return tx
        .exec_params("SELECT count(*) FROM members.mail_queue WHERE recipient = $1 AND kind = $2",
                     to, kind)[0][0]
        .as<long long>();
  }
  static std::vector<Json> contact_events(const std::string& member_id) {
    Redis redis(redis_url());
    std::vector<Json> out;
    auto r = redis.command({"XRANGE", world->prefix + ":members", "-", "+"});
    for (std::size_t i = 0; r && i < r->elements; ++i) {
      const redisReply* fields = r->element[i]->element[1];
      for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (reply_string(fields->element[f]) != "event") continue;
        Json e = Json::parse(reply_string(fields->element[f + 1]), nullptr, false);
        if (e.is_object() && e["type"] == "member.contact" && e["data"]["member_id"] == member_id)
          out.push_back(e);
      }
    }
    return out;
  }
};

// --- verification ---------------------------------------------------------------------------

TEST_F(AccountsTest, registration_mails_a_verification_link_that_verifies_once) {
  const auto m = member("Vera");
  auto me = call("GET", "/v1/me", bearer(m.token));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["email_verified"], false);
  auto mail = smtp->wait_for(m.email, "account.verify");
  ASSERT_TRUE(mail) << "no verification mail in " << smtp->maildir();
  EXPECT_NE(mail->raw.find("Vera"), std::string::npos);
  const std::string token = mail->token_for(kPublicUrl, "/verifier");
  ASSERT_FALSE(token.empty()) << mail->raw;

  auto verified = call("POST", "/v1/auth/verify", {}, {{"token", token}});
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(call("GET", "/v1/me", bearer(m.token)).json()["email_verified"], true);
  // Single use.
  auto again = deliberately_wrong([&] {
    return call("POST", "/v1/auth/verify", {}, {{"token", token}});
  });
  EXPECT_EQ(again.status, 400) << again.body;
  // notify hears of the address, then of its verification.
  ASSERT_TRUE(eventually([&] { return contact_events(m.id).size() >= 2; })) << m.id;
  auto events = contact_events(m.id);
  EXPECT_EQ(events.front()["data"]["email"], m.email);
  EXPECT_EQ(events.front()["data"]["email_verified"], false);
  EXPECT_EQ(events.back()["data"]["email_verified"], true);
}

// A sent mail's row keeps no text (its link's token), and an erased member's mails go with them.
TEST_F(AccountsTest, the_queue_keeps_no_sent_mails_text_nor_an_erased_members_mails) {
  const auto m = member("Sasha");
  ASSERT_TRUE(smtp->wait_for(m.email, "account.verify")) << "no verification mail";
  const auto texts = [&] {
    pqxx::connection conn(world->database);
    pqxx::nontransaction tx(conn);
    return tx.exec_params(
        "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE "
        "body_text <> '' OR body_html <> '') FROM members.mail_queue "
        "WHERE recipient = $1",
        m.email)[0];
  };
  ASSERT_TRUE(eventually([&] { return texts()[0].as<long long>() >= 1; })) << m.email;
  EXPECT_EQ(texts()[1].as<long long>(), 0) << "a sent mail kept its text";
  auto erased = call("DELETE", "/v1/me", bearer(m.token), {{"password", kPassword}});
  ASSERT_EQ(erased.status, 202) << erased.body;
  EXPECT_EQ(queued(m.email, "account.verify"), 0);
}

TEST_F(AccountsTest, a_forged_or_altered_token_verifies_nothing) {
  const auto m = member("Fausto");
  const std::string token = mailed_token(m.email, "account.verify", "/verifier");
  ASSERT_FALSE(token.empty());
  std::string altered = token;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  for (const std::string& wrong : {altered, std::string("abc"), std::string(59, 'a')}) {
    auto r = deliberately_wrong([&] {
      return call("POST", "/v1/auth/verify", {}, {{"token", wrong}});
    });
    EXPECT_EQ(r.status, 400) << wrong << " " << r.body;
  }
  EXPECT_EQ(call("GET", "/v1/me", bearer(m.token)).json()["email_verified"], false);
}

// --- password reset ---------------------------------------------------------------------------

TEST_F(AccountsTest, a_reset_sets_the_password_and_ends_every_session_everywhere) {
  const auto m = member("Rosalie");
  const std::string second = token_of(login(m.email, kPassword));
  ASSERT_TRUE(works_everywhere(m.token));
  ASSERT_TRUE(works_everywhere(second));

  auto asked = call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, fresh_address());
  ASSERT_EQ(asked.status, 202) << asked.body;
  const std::string token = mailed_token(m.email, "account.reset", "/reinitialiser");
  ASSERT_FALSE(token.empty());

  auto done = call("POST", "/v1/auth/password-reset/confirm", {},
                   {{"token", token}, {"password", "nouveau-mot-de-passe"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_TRUE(ended_everywhere(m.token));
  EXPECT_TRUE(ended_everywhere(second));
  EXPECT_EQ(login(m.email, kPassword).status, 401);
  auto fresh = login(m.email, "nouveau-mot-de-passe");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  // The link came to the address: it is verified.
  EXPECT_EQ(fresh.json()["member"]["email_verified"], true);
  // Single use.
  auto again = deliberately_wrong([&] {
    return call("POST", "/v1/auth/password-reset/confirm", {},
                {{"token", token}, {"password", "encore-un-autre-mot"}});
  });
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(login(m.email, "nouveau-mot-de-passe").status, 200);
}

TEST_F(AccountsTest, a_reset_link_dies_after_an_hour_by_the_services_clock) {
  const auto m = member("Horace");
  call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, fresh_address());
  const std::string token = mailed_token(m.email, "account.reset", "/reinitialiser");
  ASSERT_FALSE(token.empty());
  clock->advance_s(3601);
  auto late = deliberately_wrong([&] {
    return call("POST", "/v1/auth/password-reset/confirm", {},
                {{"token", token}, {"password", "trop-tard-pour-ca"}});
  });
  clock->advance_s(-3601);
  EXPECT_EQ(late.status, 400) << late.body;
  EXPECT_EQ(late.json()["errors"][0]["field"], "token") << late.body;
  EXPECT_TRUE(works_everywhere(m.token));
  EXPECT_EQ(login(m.email, kPassword).status, 200);
}

TEST_F(AccountsTest, a_reset_for_an_unknown_address_answers_exactly_like_a_known_one) {
  const auto m = member("Connue");
  const std::string unknown = "inconnue." + unique_suffix() + "@test.maillon";
  auto known = call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, fresh_address());
  auto stranger =
      call("POST", "/v1/auth/password-reset", {}, {{"email", unknown}}, fresh_address());
  EXPECT_EQ(known.status, 202);
  EXPECT_EQ(stranger.status, known.status);
  EXPECT_EQ(stranger.body, known.body);
  EXPECT_EQ(stranger.header("content-type"), known.header("content-type"));
  ASSERT_TRUE(smtp->wait_for(m.email, "account.reset"));
  EXPECT_EQ(queued(unknown, "account.reset"), 0);
}

TEST_F(AccountsTest, resets_are_limited_per_address_and_still_answer_202) {
  const auto m = member("Inondee");
  for (int i = 0; i < 5; ++i) {
    auto r = call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, fresh_address());
    EXPECT_EQ(r.status, 202) << i << " " << r.body;
    EXPECT_EQ(r.json()["status"], "accepted");
  }
  EXPECT_EQ(queued(m.email, "account.reset"), 3);
}

TEST_F(AccountsTest, resets_are_limited_per_client_address_and_still_answer_202) {
  const std::string from = fresh_address();
  for (int i = 0; i < 20; ++i) {
    const std::string address = "sonde." + std::to_string(i) + unique_suffix() + "@test.maillon";
    ASSERT_EQ(call("POST", "/v1/auth/password-reset", {}, {{"email", address}}, from).status, 202);
  }
  const auto m = member("Sondee");
  auto r = call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, from);
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(queued(m.email, "account.reset"), 0);
}

// --- password change --------------------------------------------------------------------------

TEST_F(AccountsTest, a_password_change_keeps_this_session_and_ends_the_others) {
  const auto m = member("Paulin");
  const std::string other = token_of(login(m.email, kPassword));
  auto wrong = deliberately_wrong([&] {
    return call("POST", "/v1/me/password", bearer(m.token),
                {{"current_password", "pas-le-bon-mot"}, {"password", "nouveau-mot-de-passe"}});
  });
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  EXPECT_EQ(wrong.json()["type"].get<std::string>().find("wrong-password") != std::string::npos,
            true)
      << wrong.body;
  EXPECT_TRUE(works_everywhere(other));

  auto changed = call("POST", "/v1/me/password", bearer(m.token),
                      {{"current_password", kPassword}, {"password", "nouveau-mot-de-passe"}});
  ASSERT_EQ(changed.status, 204) << changed.body;
  EXPECT_TRUE(works_everywhere(m.token));
  EXPECT_TRUE(ended_everywhere(other));
  EXPECT_EQ(login(m.email, kPassword).status, 401);
  EXPECT_EQ(login(m.email, "nouveau-mot-de-passe").status, 200);
}

// --- e-mail change ----------------------------------------------------------------------------

TEST_F(AccountsTest, an_email_change_happens_when_the_new_address_confirms) {
  const auto m = member("Emile");
  const std::string next = "emile.nouveau." + unique_suffix() + "@test.maillon";
  auto wrong = deliberately_wrong([&] {
    return call("POST", "/v1/me/email", bearer(m.token),
                {{"email", next}, {"password", "pas-le-bon-mot"}});
  });
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  auto asked =
      call("POST", "/v1/me/email", bearer(m.token), {{"email", next}, {"password", kPassword}});
  ASSERT_EQ(asked.status, 202) << asked.body;
  // Nothing changes before the link is followed; the old address hears of it.
  EXPECT_EQ(call("GET", "/v1/me", bearer(m.token)).json()["email"], m.email);
  ASSERT_TRUE(smtp->wait_for(m.email, "account.email-change")) << "no notice to the old address";
  const std::string token = mailed_token(next, "account.email-change", "/email");
  ASSERT_FALSE(token.empty());

  auto confirmed = call("POST", "/v1/auth/email/confirm", {}, {{"token", token}});
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(confirmed.json()["email"], next);
  auto me = call("GET", "/v1/me", bearer(m.token)).json();
  EXPECT_EQ(me["email"], next);
  EXPECT_EQ(me["email_verified"], true);
  EXPECT_EQ(login(next, kPassword).status, 200);
  EXPECT_EQ(login(m.email, kPassword).status, 401);
  ASSERT_TRUE(eventually([&] {
    auto events = contact_events(m.id);
    return !events.empty() && events.back()["data"]["email"] == next;
  }));
}

TEST_F(AccountsTest, a_taken_address_is_said_only_at_confirmation) {
  const auto m = member("Tania");
  const auto owner = member("Proprietaire");
  const std::string free_address = "libre." + unique_suffix() + "@test.maillon";
  auto to_free = call("POST", "/v1/me/email", bearer(m.token),
                      {{"email", free_address}, {"password", kPassword}});
  auto to_taken = call("POST", "/v1/me/email", bearer(m.token),
                       {{"email", owner.email}, {"password", kPassword}});
  EXPECT_EQ(to_taken.status, 202);
  EXPECT_EQ(to_taken.status, to_free.status);
  EXPECT_EQ(to_taken.body, to_free.body);
  const std::string token = mailed_token(owner.email, "account.email-change", "/email");
  ASSERT_FALSE(token.empty());
  auto confirmed = call("POST", "/v1/auth/email/confirm", {}, {{"token", token}});
  EXPECT_EQ(confirmed.status, 409) << confirmed.body;
  EXPECT_NE(confirmed.body.find("email-taken"), std::string::npos) << confirmed.body;
  EXPECT_EQ(call("GET", "/v1/me", bearer(m.token)).json()["email"], m.email);
}

TEST_F(AccountsTest, a_member_registered_at_the_desk_is_given_an_address_then_a_password) {
  const auto desk = member("Guichetiere");
  world->make_staff(site, desk.id);
  auto created = call("POST", "/v1/members", bearer(desk.token),
                      {{"display_name", "Odette Sans-Adresse"}, {"home_site_id", site}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  Headers acting = bearer(desk.token);
  acting.emplace_back("X-On-Behalf-Of", id);
  const std::string address = "odette." + unique_suffix() + "@test.maillon";

  // At the desk, without a password (the member has none).
  auto asked = call("POST", "/v1/me/email", acting, {{"email", address}});
  ASSERT_EQ(asked.status, 202) << asked.body;
  const std::string token = mailed_token(address, "account.email-change", "/email");
  ASSERT_FALSE(token.empty());
  auto confirmed = call("POST", "/v1/auth/email/confirm", {}, {{"token", token}});
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(confirmed.json()["email"], address);

  // The address now theirs gets the link to choose a password; then they log in themselves.
  const std::string choose = mailed_token(address, "account.reset", "/reinitialiser");
  ASSERT_FALSE(choose.empty());
  auto chosen = call("POST", "/v1/auth/password-reset/confirm", {},
                     {{"token", choose}, {"password", "mon-premier-mot"}});
  ASSERT_EQ(chosen.status, 200) << chosen.body;
  EXPECT_EQ(login(address, "mon-premier-mot").status, 200);

  // From now on the address is the member's to change, with their password.
  auto again = deliberately_wrong([&] {
    return call("POST", "/v1/me/email", acting, {{"email", "autre." + address}});
  });
  EXPECT_EQ(again.status, 403) << again.body;
  // And a member's own session still needs the password.
  auto bare = deliberately_wrong([&] {
    return call("POST", "/v1/me/email", bearer(desk.token), {{"email", "g." + address}});
  });
  EXPECT_EQ(bare.status, 400) << bare.body;
}

// --- the calendar feed -------------------------------------------------------------------------

TEST_F(AccountsTest, a_password_change_or_reset_ends_the_calendar_feeds_address) {
  const auto m = member("Agenda");
  auto calendar_token = [&] {
    const RawResult r =
        request_from("127.0.0.1", exchange->url(), "GET", "/v1/me/calendar", "", bearer(m.token));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().value("token", std::string());
  };
  auto feed = [&](const std::string& token) {
    return request_from("127.0.0.1", exchange->url(), "GET", "/v1/me/calendar.ics?token=" + token)
        .status;
  };
  // The address may have leaked with a session: a new password ends it as it ends the sessions.
  const std::string first = calendar_token();
  ASSERT_EQ(feed(first), 200);
  auto changed = call("POST", "/v1/me/password", bearer(m.token),
                      {{"current_password", kPassword}, {"password", "agenda-nouveau-1"}});
  ASSERT_EQ(changed.status, 204) << changed.body;
  EXPECT_TRUE(eventually([&] { return feed(first) == 404; }, 10000));
  const std::string second = calendar_token();
  EXPECT_NE(second, first);
  EXPECT_EQ(feed(second), 200);

  // A reset too (it also ends the session that asked for the address).
  call("POST", "/v1/auth/password-reset", {}, {{"email", m.email}}, fresh_address());
  const std::string token = mailed_token(m.email, "account.reset", "/reinitialiser");
  ASSERT_FALSE(token.empty());
  auto reset = call("POST", "/v1/auth/password-reset/confirm", {},
                    {{"token", token}, {"password", "agenda-encore-1"}});
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_TRUE(eventually([&] { return feed(second) == 404; }, 10000));
}

// --- sessions -----------------------------------------------------------------------------------

TEST_F(AccountsTest, the_member_lists_their_sessions_and_ends_one_everywhere) {
  const auto m = member("Sessions");
  const std::string phone = token_of(login(m.email, kPassword, "Telephone/1.0"));
  auto listed = call("GET", "/v1/me/sessions", bearer(m.token));
  ASSERT_EQ(listed.status, 200) << listed.body;
  const Json items = listed.json()["items"];
  ASSERT_EQ(items.size(), 2u) << listed.body;
  std::string phone_id;
  int current = 0;
  for (const auto& s : items) {
    if (s["current"] == true) ++current;
    if (s["user_agent"] == "Telephone/1.0") phone_id = s["id"];
  }
  EXPECT_EQ(current, 1) << listed.body;
  ASSERT_FALSE(phone_id.empty()) << listed.body;

  // Someone else's session is unknown to another member.
  const auto stranger = member("Etranger");
  EXPECT_EQ(call("DELETE", "/v1/me/sessions/" + phone_id, bearer(stranger.token)).status, 404);
  EXPECT_TRUE(works_everywhere(phone));

  ASSERT_EQ(call("DELETE", "/v1/me/sessions/" + phone_id, bearer(m.token)).status, 204);
  EXPECT_TRUE(ended_everywhere(phone));
  EXPECT_TRUE(works_everywhere(m.token));
  EXPECT_EQ(call("DELETE", "/v1/me/sessions/" + phone_id, bearer(m.token)).status, 404);
  EXPECT_EQ(call("GET", "/v1/me/sessions", bearer(m.token)).json()["items"].size(), 1u);
}

TEST_F(AccountsTest, staff_acting_for_a_member_cannot_touch_their_password_or_sessions) {
  const auto desk = member("Guichet");
  world->make_staff(site, desk.id);
  const auto m = member("Aidee");
  Headers acting = {{"Authorization", "Bearer " + desk.token}, {"X-On-Behalf-Of", m.id}};
  EXPECT_EQ(call("GET", "/v1/me/sessions", acting).status, 403);
  EXPECT_EQ(call("POST", "/v1/me/password", acting,
                 {{"current_password", kPassword}, {"password", "nouveau-mot-de-passe"}})
                .status,
            403);
  EXPECT_EQ(login(m.email, kPassword).status, 200);
}

}  // namespace
}  // namespace maillon::testing::accounts
