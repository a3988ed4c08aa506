// Authentication and abuse resistance against the real members and exchange services (real
// PostgreSQL and Redis): acting for a member, failed-login and sign-up limits, sessions that end
// at once everywhere, the browser's cookie and CSRF token, the stream's tickets, and the general
// rate limit keyed by member or by forwarded address. Each test is a client of its own address
// in 127.0.0.0/8.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <thread>

#include "auth/auth_http.hpp"
#include "harness.hpp"
#include "services/common/ids.hpp"

namespace maillon::testing::auth {
namespace {

constexpr const char* kPassword = "mot-de-passe-1";
constexpr int kRegistrationsPerHour = 3;

class AuthServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new MembersWorld(
        "auth", {{"MAILLON_REGISTRATIONS_PER_HOUR", std::to_string(kRegistrationsPerHour)}});
    community = world->create_community("Lens-Liévin");
    site = world->create_site(community, "Tiers-lieu de Liévin", 50.42, 2.78);
    other_site = world->create_site(community, "Ressourcerie de Lens", 50.43, 2.83, "ressourcerie");
    exchange = new ServiceProcess("exchange", world->env());
    exchange->start();
    notify = new ServiceProcess("notify", world->env());  // the inbox and its stream
    notify->start();
    // A second members process on the same database with a tiny limit, trusting one proxy only.
    tight =
        new ServiceProcess("members", world->env({{"MAILLON_RATE_LIMIT", "1"},
                                                  {"MAILLON_RATE_BURST", std::to_string(kBurst)},
                                                  {"MAILLON_TRUSTED_PROXIES", "127.0.0.50/32"}}));
    tight->start();
    // One more whose password lane holds one hash at a time and two waiting; these two hash
    // with the production limits (the test stacks' cheap ones would never fill a lane).
    narrow = new ServiceProcess("members", world->env({{"MAILLON_PASSWORD_COST", "interactive"},
                                                       {"MAILLON_PASSWORD_THREADS", "1"},
                                                       {"MAILLON_PASSWORD_QUEUE", "2"}}));
    narrow->start();
    // And one whose queue is deep but where nobody waits more than 100 ms for the hashing thread.
    hasty = new ServiceProcess("members", world->env({{"MAILLON_PASSWORD_COST", "interactive"},
                                                      {"MAILLON_PASSWORD_THREADS", "1"},
                                                      {"MAILLON_PASSWORD_QUEUE", "64"},
                                                      {"MAILLON_PASSWORD_WAIT_MS", "100"}}));
    hasty->start();
  }
  static void TearDownTestSuite() {
    delete hasty;
    delete narrow;
    delete tight;
    delete notify;
    delete exchange;
    delete world;
  }

  static constexpr int kBurst = 5;
  static inline MembersWorld* world = nullptr;
  static inline ServiceProcess* exchange = nullptr;
  static inline ServiceProcess* notify = nullptr;
  static inline ServiceProcess* tight = nullptr;
  static inline ServiceProcess* narrow = nullptr;
  static inline ServiceProcess* hasty = nullptr;
  static inline std::string community, site, other_site;

  // Builders ---------------------------------------------------------------------------------
  static MemberInfo member(const std::string& name, const std::string& home = site) {
    return world->register_member(community, name, home);
  }
  static MemberInfo staff_of(const std::string& staff_site, const std::string& name,
                             const std::string& home = site) {
    auto m = member(name, home);
    world->make_staff(staff_site, m.id);
    return m;
  }
  static RawResult login(const std::string& from, const std::string& email,
                         const std::string& password = kPassword) {
    return request_from(from, world->members->url(), "POST", "/v1/auth/login",
                        Json{{"email", email}, {"password", password}}.dump());
  }
  static RawResult members_call(const std::string& method, const std::string& path,
                                const Headers& headers, const std::string& body = "") {
    return request_from("127.0.0.1", world->members->url(), method, path, body, headers);
  }
  static RawResult exchange_call(const std::string& method, const std::string& path,
                                 const Headers& headers, const std::string& body = "") {
    return request_from("127.0.0.1", exchange->url(), method, path, body, headers);
  }
  static RawResult notify_call(const std::string& method, const std::string& path,
                               const Headers& headers, const std::string& body = "") {
    return request_from("127.0.0.1", notify->url(), method, path, body, headers);
  }
  // A client of the tight process: kBurst calls, then the one that must be refused.
  static int tight_get(const std::string& from, const std::string& path,
                       const Headers& headers = {}) {
    return request_from(from, tight->url(), "GET", path, "", headers).status;
  }
  static int burst_then_next(const std::string& from, const std::string& path,
                             const Headers& headers = {}) {
    for (int i = 0; i < kBurst; ++i) {
      if (tight_get(from, path, headers) != 200) return -1;
    }
    return tight_get(from, path, headers);
  }
  static Headers acting(const MemberInfo& caller, const MemberInfo& target) {
    return {{"Authorization", "Bearer " + caller.token}, {"X-On-Behalf-Of", target.id}};
  }
  static void sql(const std::string& statement, const std::string& a, const std::string& b = "") {
    pqxx::connection conn(world->database);
    pqxx::nontransaction tx(conn);
    if (b.empty()) {
      tx.exec_params(statement, a);
    } else {
      tx.exec_params(statement, a, b);
    }
  }
};

// --- acting for a member -----------------------------------------------------------------------

TEST_F(AuthServiceTest, acting_for_a_member_lends_their_rights_and_shows_who_acts) {
  const auto desk = staff_of(site, "Agathe");
  const auto plain = member("Bruno");
  auto me = members_call("GET", "/v1/me", acting(desk, plain));
  ASSERT_EQ(me.status, 200) << me.body;
  const Json j = me.json();
  EXPECT_EQ(j["id"], plain.id);
  EXPECT_EQ(j["acting_staff_id"], desk.id);
  EXPECT_EQ(j["roles"], Json::array({"member"}));
  EXPECT_EQ(j["staff_site_ids"], Json::array()) << me.body;
  EXPECT_FALSE(j.contains("admin_community_ids")) << me.body;
  // What staff may see of a member of their site stays theirs while acting.
  auto profile = members_call("GET", "/v1/members/" + plain.id, acting(desk, plain));
  EXPECT_EQ(profile.json().value("email", ""), plain.email) << profile.body;
}

TEST_F(AuthServiceTest, acting_for_staff_of_another_site_gives_no_desk) {
  const auto desk = staff_of(site, "Camille");
  const auto elsewhere = staff_of(other_site, "Denis", site);  // home here, staff there
  EXPECT_EQ(members_call("GET", "/v1/me", acting(desk, elsewhere)).status, 403);
  EXPECT_EQ(
      exchange_call("GET", "/v1/sites/" + other_site + "/desk", acting(desk, elsewhere)).status,
      403);
  EXPECT_EQ(exchange_call("GET", "/v1/sites/" + other_site + "/desk", bearer(desk.token)).status,
            403);
}

TEST_F(AuthServiceTest, acting_for_staff_of_ones_own_site_or_for_an_administrator_is_403) {
  const auto desk = staff_of(site, "Emma");
  const auto colleague = staff_of(site, "Fabien");
  EXPECT_EQ(members_call("GET", "/v1/me", acting(desk, colleague)).status, 403);

  const auto community_admin = member("Gaëlle");
  sql("INSERT INTO members.community_admins (community_id, member_id) VALUES ($1, $2)", community,
      community_admin.id);
  EXPECT_EQ(members_call("GET", "/v1/me", acting(desk, community_admin)).status, 403);

  // An admin acting for a plain member has that member's rights only.
  const auto plain = member("Hector");
  const MemberInfo admin{"", world->admin_token, ""};
  EXPECT_EQ(members_call("GET", "/v1/me", acting(admin, plain)).status, 200);
  auto community_as_member = members_call("POST", "/v1/communities", acting(admin, plain),
                                          Json{{"name", "Par procuration"}}.dump());
  EXPECT_EQ(community_as_member.status, 403) << community_as_member.body;
}

TEST_F(AuthServiceTest, a_malformed_on_behalf_of_header_is_a_400) {
  const auto desk = staff_of(site, "Inès");
  DeliberatelyWrong mark;  // X-On-Behalf-Of must name a member id
  auto r = members_call("GET", "/v1/me",
                        {{"Authorization", "Bearer " + desk.token}, {"X-On-Behalf-Of", "42"}});
  EXPECT_EQ(r.status, 400) << r.body;
}

// --- failed logins and sign-ups ----------------------------------------------------------------

TEST_F(AuthServiceTest, sixth_failed_login_of_an_account_is_429_and_other_accounts_still_log_in) {
  const std::string from = "127.0.0.21";
  const auto target = member("Jules"), neighbour = member("Katia");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(login(from, target.email, "pas-le-bon-1").status, 401);
  auto sixth = login(from, target.email, "pas-le-bon-1");
  ASSERT_EQ(sixth.status, 429) << sixth.body;
  ASSERT_TRUE(sixth.header("retry-after"));
  const int wait_s = std::stoi(*sixth.header("retry-after"));
  EXPECT_GE(wait_s, 1);
  EXPECT_LE(wait_s, 60);
  // The account waits out its minute whoever knocks; the address is not blocked for others.
  EXPECT_EQ(login("127.0.0.22", target.email).status, 429);
  EXPECT_EQ(login(from, neighbour.email).status, 200);
}

// The two tests below hash a hundred passwords or more each. They run alone (tests/CMakeLists.txt,
// ALONE) against a members process of their own whose limits count in a window of ten minutes,
// and whose logins wait for a hashing thread as long as it takes: on a loaded machine (a CI
// runner, clang-tidy beside) a hundred hashes can outlast the default minute, and the default
// 10 s of patience would answer 429 for the password lane, not for the limits under test.
class AuthAddressFlood : public AuthServiceTest {
 protected:
  static void SetUpTestSuite() {
    AuthServiceTest::SetUpTestSuite();
    patient = new ServiceProcess("members", world->env({{"MAILLON_LOGIN_WINDOW_S", "600"},
                                                        {"MAILLON_PASSWORD_WAIT_MS", "600000"}}));
    patient->start();
  }
  static void TearDownTestSuite() {
    delete patient;
    AuthServiceTest::TearDownTestSuite();
  }
  static RawResult patient_login(const std::string& from, const std::string& email,
                                 const std::string& password = kPassword) {
    return request_from(from, patient->url(), "POST", "/v1/auth/login",
                        Json{{"email", email}, {"password", password}}.dump());
  }
  static inline ServiceProcess* patient = nullptr;
};

TEST_F(AuthAddressFlood, successful_logins_never_count_so_a_shared_address_is_never_throttled) {
  const std::string from = "127.0.0.23";
  std::vector<MemberInfo> workshop;
  for (int i = 0; i < 30; ++i) workshop.push_back(member("Atelier" + std::to_string(i)));
  std::atomic<int> refused{0};
  std::vector<std::thread> people;
  for (int p = 0; p < 6; ++p) {
    people.emplace_back([&, p] {
      for (int round = 0; round < 4; ++round) {
        for (int i = p; i < 30; i += 6) {
          if (patient_login(from, workshop[i].email).status != 200) ++refused;
        }
      }
    });
  }
  for (auto& t : people) t.join();
  EXPECT_EQ(refused.load(), 0) << "120 successful logins from one address";
}

TEST_F(AuthAddressFlood, the_101st_failure_from_one_address_is_429) {
  const std::string from = "127.0.0.24";
  std::atomic<int> unauthorized{0}, other{0};
  std::vector<std::thread> guessers;
  for (int g = 0; g < 4; ++g) {
    guessers.emplace_back([&, g] {
      for (int i = g; i < 100; i += 4) {
        const std::string email = "inconnu" + std::to_string(i) + "@test.maillon";
        (patient_login(from, email, "devinette-1").status == 401 ? unauthorized : other)++;
      }
    });
  }
  for (auto& t : guessers) t.join();
  EXPECT_EQ(unauthorized.load(), 100);
  EXPECT_EQ(other.load(), 0);
  auto next = patient_login(from, "inconnu-101@test.maillon", "devinette-1");
  EXPECT_EQ(next.status, 429) << next.body;
  ASSERT_TRUE(next.header("retry-after"));
  // Until the window the first failure opened ends: at most the ten minutes configured.
  const int wait_s = std::stoi(*next.header("retry-after"));
  EXPECT_GE(wait_s, 1);
  EXPECT_LE(wait_s, 600);
  EXPECT_EQ(patient_login("127.0.0.25", member("Léon").email).status, 200);
}

TEST_F(AuthServiceTest, anonymous_sign_ups_are_limited_per_address_but_not_for_an_admin) {
  auto sign_up = [&](const std::string& from, const Headers& headers = {}) {
    const Json body = {{"email", "inscription." + unique_suffix() + "@test.maillon"},
                       {"password", kPassword},
                       {"display_name", "Nouvelle"},
                       {"community_id", community}};
    return request_from(from, world->members->url(), "POST", "/v1/auth/register", body.dump(),
                        headers);
  };
  for (int i = 0; i < kRegistrationsPerHour; ++i) EXPECT_EQ(sign_up("127.0.0.31").status, 201);
  auto refused = sign_up("127.0.0.31");
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_GT(std::stoi(refused.header("retry-after").value_or("0")), 60);
  EXPECT_EQ(sign_up("127.0.0.31", bearer(world->admin_token)).status, 201);
  EXPECT_EQ(sign_up("127.0.0.32").status, 201);
}

// A hash made with other limits (an older release's, a raised MAILLON_PASSWORD_COST) is made
// again with the process's own at the member's next login; a test stack's cheap limits never
// replace a stronger hash.
TEST_F(AuthServiceTest, a_login_hashes_again_a_password_made_with_other_limits_never_weaker) {
  ServiceProcess cheap("members", world->env({{"MAILLON_PASSWORD_COST", "test"}}));
  cheap.start();
  const std::string email = "rehash." + unique_suffix() + "@test.maillon";
  const Json body = {{"email", email},
                     {"password", kPassword},
                     {"display_name", "Gaston"},
                     {"community_id", community}};
  auto made = request_from("127.0.0.1", cheap.url(), "POST", "/v1/auth/register", body.dump(),
                           bearer(world->admin_token));
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = Json::parse(made.body)["member"]["id"];
  auto stored = [&] {
    pqxx::connection conn(world->database);
    pqxx::nontransaction tx(conn);
    return tx.exec_params1("SELECT password_hash FROM members.members WHERE id = $1", id)[0]
        .as<std::string>();
  };
  EXPECT_EQ(stored().rfind("$argon2id$v=19$m=8,t=1,", 0), 0u) << stored();

  auto through = [&](const ServiceProcess& p, const std::string& password) {
    return request_from("127.0.0.34", p.url(), "POST", "/v1/auth/login",
                        Json{{"email", email}, {"password", password}}.dump())
        .status;
  };
  EXPECT_EQ(through(*narrow, "pas-le-bon-1"), 401);
  EXPECT_EQ(stored().rfind("$argon2id$v=19$m=8,t=1,", 0), 0u) << "a wrong password changes nothing";
  EXPECT_EQ(through(*narrow, kPassword), 200);
  const std::string strong = stored();
  EXPECT_EQ(strong.rfind("$argon2id$v=19$m=65536,t=2,", 0), 0u) << strong;
  EXPECT_EQ(through(cheap, kPassword), 200);
  EXPECT_EQ(stored(), strong);
  EXPECT_EQ(through(*narrow, kPassword), 200);
  EXPECT_EQ(stored(), strong) << "hashed once, not at every login";
}

TEST_F(AuthServiceTest, logins_beyond_the_password_queue_wait_with_429_and_reads_go_on) {
  const auto reader = member("Lucie");
  std::atomic<int> unauthorized{0}, throttled{0}, other{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < 16; ++i) {
    flood.emplace_back([&, i] {
      const Json body = {{"email", "file" + std::to_string(i) + "@test.maillon"},
                         {"password", "devinette-1"}};
      auto r = request_from("127.0.0.28", narrow->url(), "POST", "/v1/auth/login", body.dump());
      if (r.status == 429 && r.header("retry-after")) {
        ++throttled;
      } else {
        (r.status == 401 ? unauthorized : other)++;
      }
    });
  }
  const int read =
      request_from("127.0.0.29", narrow->url(), "GET", "/v1/me", "", bearer(reader.token)).status;
  for (auto& t : flood) t.join();
  EXPECT_EQ(read, 200);
  EXPECT_GT(throttled.load(), 0) << "16 logins at once, 1 hashing and 2 waiting";
  EXPECT_GT(unauthorized.load(), 0);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(AuthServiceTest, a_login_that_waited_past_the_limit_for_a_hash_answers_429_at_once) {
  std::atomic<int> unauthorized{0}, throttled{0}, other{0};
  std::atomic<int64_t> slowest_throttled_ms{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < 24; ++i) {
    flood.emplace_back([&, i] {
      const Json body = {{"email", "attente" + std::to_string(i) + "@test.maillon"},
                         {"password", "devinette-1"}};
      const auto start = std::chrono::steady_clock::now();
      auto r = request_from("127.0.0.33", hasty->url(), "POST", "/v1/auth/login", body.dump());
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
      if (r.status == 429 && r.header("retry-after")) {
        ++throttled;
        int64_t seen = slowest_throttled_ms.load();
        while (ms > seen && !slowest_throttled_ms.compare_exchange_weak(seen, ms)) {
        }
      } else {
        (r.status == 401 ? unauthorized : other)++;
      }
    });
  }
  for (auto& t : flood) t.join();
  // 24 Argon2id hashes one after the other take far more than 100 ms: the queue (64) never
  // fills, so every 429 comes from the wait limit, and the first login was hashed.
  EXPECT_GT(throttled.load(), 0) << "24 logins at once, one hashing thread, 100 ms of patience";
  EXPECT_GT(unauthorized.load(), 0);
  EXPECT_EQ(other.load(), 0);
  std::printf("[ wait     ] %d hashed (401), %d refused (429), the slowest 429 after %lld ms\n",
              unauthorized.load(), throttled.load(),
              static_cast<long long>(slowest_throttled_ms.load()));
}

// --- sessions end at once everywhere -----------------------------------------------------------

TEST_F(AuthServiceTest, a_revoked_session_fails_at_once_on_every_service) {
  const auto m = member("Manon");
  for (int i = 0; i < 2; ++i) {  // the second read comes from the caches
    ASSERT_EQ(members_call("GET", "/v1/me", bearer(m.token)).status, 200);
    ASSERT_EQ(notify_call("GET", "/v1/notifications", bearer(m.token)).status, 200);
  }
  ASSERT_EQ(members_call("POST", "/v1/auth/logout", bearer(m.token)).status, 204);
  EXPECT_EQ(members_call("GET", "/v1/me", bearer(m.token)).status, 401);
  EXPECT_EQ(notify_call("GET", "/v1/notifications", bearer(m.token)).status, 401);
}

TEST_F(AuthServiceTest, an_expired_session_fails_at_once_though_it_was_cached) {
  const auto m = member("Nora");
  const std::string token = new_token();
  sql("INSERT INTO members.sessions (token_hash, member_id, expires_at) "
      "VALUES ($1, $2, now() + interval '3 seconds')",
      token_hash(token), m.id);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(members_call("GET", "/v1/me", bearer(token)).status, 200);
    ASSERT_EQ(notify_call("GET", "/v1/notifications", bearer(token)).status, 200);
  }
  // Wait for the session's end by the database's clock, not by a guess.
  ASSERT_TRUE(eventually(
      [&] {
        pqxx::connection conn(world->database);
        pqxx::nontransaction tx(conn);
        return tx
            .exec_params("SELECT now() > expires_at FROM members.sessions WHERE token_hash = $1",
                         token_hash(token))[0][0]
            .as<bool>();
      },
      10000));
  EXPECT_EQ(members_call("GET", "/v1/me", bearer(token)).status, 401);
  EXPECT_EQ(notify_call("GET", "/v1/notifications", bearer(token)).status, 401);
}

TEST_F(AuthServiceTest, erasure_asks_the_password_again_and_then_ends_every_session) {
  const auto m = member("Olivier");
  const auto second = login("127.0.0.26", m.email).json().value("token", "");
  ASSERT_EQ(notify_call("GET", "/v1/notifications", bearer(second)).status, 200);
  EXPECT_EQ(deliberately_wrong([&] {  // without the password the operation requires
              return members_call("DELETE", "/v1/me", bearer(m.token), "{}").status;
            }),
            400);
  auto wrong = members_call("DELETE", "/v1/me", bearer(m.token), R"({"password":"pas-le-bon-1"})");
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  EXPECT_EQ(members_call("GET", "/v1/me", bearer(m.token)).status, 200);
  auto erased =
      members_call("DELETE", "/v1/me", bearer(m.token), Json{{"password", kPassword}}.dump());
  ASSERT_EQ(erased.status, 202) << erased.body;
  EXPECT_EQ(members_call("GET", "/v1/me", bearer(m.token)).status, 401);
  EXPECT_EQ(notify_call("GET", "/v1/notifications", bearer(second)).status, 401);
}

TEST_F(AuthServiceTest, staff_erase_a_member_only_with_the_members_own_password) {
  const std::string staff_password = "mot-du-guichet-1";
  const Json body = {{"email", "guichet." + unique_suffix() + "@test.maillon"},
                     {"password", staff_password},
                     {"display_name", "Guichet"},
                     {"community_id", community},
                     {"home_site_id", site}};
  auto registered =
      members_call("POST", "/v1/auth/register", bearer(world->admin_token), body.dump());
  ASSERT_EQ(registered.status, 201) << registered.body;
  const MemberInfo desk{registered.json()["member"].value("id", ""),
                        registered.json().value("token", ""), ""};
  world->make_staff(site, desk.id);
  const auto m = member("Rosine");
  auto refused =
      members_call("DELETE", "/v1/me", acting(desk, m), Json{{"password", staff_password}}.dump());
  EXPECT_EQ(refused.status, 403) << refused.body;
  auto erased =
      members_call("DELETE", "/v1/me", acting(desk, m), Json{{"password", kPassword}}.dump());
  EXPECT_EQ(erased.status, 202) << erased.body;
}

// --- the browser: cookie and CSRF token --------------------------------------------------------

TEST_F(AuthServiceTest, login_sets_the_session_cookie_and_writes_need_the_csrf_token) {
  const auto m = member("Pauline");
  auto r = login("127.0.0.41", m.email);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto session_line = set_cookie_line(r, "maillon_session");
  const auto csrf_line = set_cookie_line(r, "maillon_csrf");
  ASSERT_TRUE(session_line && csrf_line) << r.body;
  for (const char* attribute : {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"})
    EXPECT_NE(session_line->find(attribute), std::string::npos) << *session_line;
  EXPECT_EQ(csrf_line->find("HttpOnly"), std::string::npos) << *csrf_line;
  const std::string session = *set_cookie(r, "maillon_session"),
                    csrf = *set_cookie(r, "maillon_csrf");
  EXPECT_EQ(session, r.json().value("token", ""));
  const Headers cookie = {{"Cookie", "maillon_session=" + session + "; maillon_csrf=" + csrf}};
  Headers with_csrf = cookie;
  with_csrf.emplace_back("X-CSRF-Token", csrf);
  Headers with_forged = cookie;
  // The last character changed, whatever it was: a token that differs from the real one.
  const char forged_last = csrf.back() == 'A' ? 'B' : 'A';
  with_forged.emplace_back("X-CSRF-Token", csrf.substr(0, csrf.size() - 1) + forged_last);
  const std::string rename = Json{{"display_name", "Pauline B."}}.dump();

  EXPECT_EQ(members_call("GET", "/v1/me", cookie).status, 200);
  auto refused = members_call("PATCH", "/v1/me", cookie, rename);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.json().value("code", ""), "csrf");
  EXPECT_EQ(members_call("PATCH", "/v1/me", with_forged, rename).status, 403);
  EXPECT_EQ(members_call("PATCH", "/v1/me", with_csrf, rename).status, 200);
  EXPECT_EQ(notify_call("POST", "/v1/notifications/read", cookie, "{}").status, 403);
  EXPECT_EQ(notify_call("POST", "/v1/notifications/read", with_csrf, "{}").status, 200);
  // API clients keep their bearer token, no CSRF token needed.
  EXPECT_EQ(members_call("PATCH", "/v1/me", bearer(session), rename).status, 200);

  EXPECT_EQ(members_call("POST", "/v1/auth/logout", cookie).status, 403);
  auto out = members_call("POST", "/v1/auth/logout", with_csrf);
  ASSERT_EQ(out.status, 204);
  EXPECT_EQ(set_cookie(out, "maillon_session"), "");
  EXPECT_NE(set_cookie_line(out, "maillon_session")->find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(members_call("GET", "/v1/me", cookie).status, 401);
}

// --- the live stream: tickets, never a token in the URL -----------------------------------------

TEST_F(AuthServiceTest, a_stream_ticket_opens_the_stream_once_and_access_token_is_refused) {
  const auto m = member("Quentin");
  auto issued = notify_call("POST", "/v1/notifications/stream-ticket", bearer(m.token));
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string ticket = issued.json().value("ticket", "");
  EXPECT_FALSE(issued.json().value("expires_at", "").empty());
  EXPECT_EQ(ticket.find(m.token), std::string::npos);
  auto open = [&](const std::string& query, const Headers& headers = {}) {
    return request_from("127.0.0.1", notify->url(), "GET", "/v1/notifications/stream" + query, "",
                        headers, true)
        .status;
  };
  EXPECT_EQ(open("?ticket=" + ticket), 200);
  EXPECT_EQ(open("?ticket=" + ticket), 401);  // single use
  EXPECT_EQ(open("?access_token=" + m.token), 401);
  EXPECT_EQ(open("", bearer(m.token)), 200);

  auto r = login("127.0.0.42", m.email);
  const std::string session = *set_cookie(r, "maillon_session");
  EXPECT_EQ(open("", {{"Cookie", "maillon_session=" + session}}), 200);

  // A ticket dies with its session.
  auto late = notify_call("POST", "/v1/notifications/stream-ticket", bearer(session));
  ASSERT_EQ(late.status, 201);
  ASSERT_EQ(members_call("POST", "/v1/auth/logout", bearer(session)).status, 204);
  EXPECT_EQ(open("?ticket=" + late.json().value("ticket", "")), 401);

  const auto desk = staff_of(site, "Romane");
  EXPECT_EQ(notify_call("POST", "/v1/notifications/stream-ticket", acting(desk, m)).status, 403);
}

// --- the general rate limit: by member, or by the forwarded address ------------------------------

TEST_F(AuthServiceTest, members_sharing_an_address_each_have_their_own_bucket) {
  const auto a = member("Sacha"), b = member("Théo");
  EXPECT_EQ(burst_then_next("127.0.0.51", "/v1/me", bearer(a.token)), 429);
  EXPECT_EQ(tight_get("127.0.0.51", "/v1/me", bearer(b.token)), 200);
}

TEST_F(AuthServiceTest, anonymous_calls_are_keyed_by_the_address_a_trusted_proxy_forwards) {
  const std::string path = "/v1/sites?community_id=" + community;
  const Headers first = {{"X-Forwarded-For", "198.51.100.7, 203.0.113.10"}};
  EXPECT_EQ(burst_then_next("127.0.0.50", path, first), 429);
  // Another client behind the same proxy; a forged left part does not make a new one.
  EXPECT_EQ(tight_get("127.0.0.50", path, {{"X-Forwarded-For", "203.0.113.11"}}), 200);
  EXPECT_EQ(tight_get("127.0.0.50", path, {{"X-Forwarded-For", "192.0.2.99, 203.0.113.10"}}), 429);
  // An untrusted peer is itself the client, whatever it forwards.
  EXPECT_EQ(burst_then_next("127.0.0.52", path, {{"X-Forwarded-For", "203.0.113.20"}}), 429);
  EXPECT_EQ(tight_get("127.0.0.52", path, {{"X-Forwarded-For", "203.0.113.21"}}), 429);
}

}  // namespace
}  // namespace maillon::testing::auth
