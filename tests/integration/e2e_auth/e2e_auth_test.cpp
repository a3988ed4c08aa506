// Authentication through the nginx gateway (MAILLON_TEST_GATEWAY_URL): acting for another site's
// staff gives no desk, a flood of wrong passwords never starves reads (p99 printed), failed
// logins are limited per account and per client address as nginx forwards it, a revoked session
// stops on every service at once, the browser's cookie needs its CSRF token through the gateway,
// and the live stream takes tickets, not tokens. Each test is a client of its own loopback
// address (nginx forwards it as X-Forwarded-For).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "auth/auth_http.hpp"
#include "e2e/e2e_suite.hpp"
#include "services/common/ids.hpp"

namespace maillon::testing::auth {
namespace {

constexpr const char* kPassword = "mot-de-passe-1";
constexpr int kConcurrentLogins = 64;
constexpr int kReadsTimeoutMs =
    120'000;  // the reads go on as long as the flood (bounded all the same)

class E2eAuthTest : public E2eSuite {
 protected:
  static void SetUpTestSuite() {
    E2eSuite::SetUpTestSuite();
    place = gateway->community("Authentification", {{"signup_bonus", 0}});
    auto other = gateway->admin().post("/v1/sites", {{"community_id", place.id},
                                                     {"name", "Autre lieu"},
                                                     {"kind", "ressourcerie"},
                                                     {"location", {{"lat", 50.63}, {"lon", 3.06}}},
                                                     {"address", "Lille"}});
    ASSERT_EQ(other.status, 201) << other.body;
    other_site = other.json().value("id", "");
  }
  static inline GatewayCommunity place;
  static inline std::string other_site;

  static MemberInfo member(const std::string& name) { return gateway->member(place, name); }
  static RawResult call(const std::string& from, const std::string& method, const std::string& path,
                        const Headers& headers = {}, const std::string& body = "") {
    return request_from(from, gateway->url(), method, path, body, headers);
  }
  static RawResult login(const std::string& from, const std::string& email,
                         const std::string& password = kPassword) {
    return call(from, "POST", "/v1/auth/login", {},
                Json{{"email", email}, {"password", password}}.dump());
  }
  static Headers acting(const MemberInfo& caller, const MemberInfo& target) {
    return {{"Authorization", "Bearer " + caller.token}, {"X-On-Behalf-Of", target.id}};
  }
  // The gateway's whole access log, and the lines of the client at `from` (it starts them).
  static std::pair<std::string, std::string> gateway_log_of(const std::string& from) {
    std::ifstream in(required_env("MAILLON_TEST_GATEWAY_LOG"));
    std::string log(std::istreambuf_iterator<char>(in), {}), mine;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(from + " [", 0) == 0) mine += line + "\n";
    }
    return {log, mine};
  }
};

TEST_F(E2eAuthTest, acting_for_another_sites_staff_member_gives_no_desk) {
  const auto desk = member("guichet");
  gateway->make_staff(place, desk);
  const auto elsewhere = member("ailleurs");  // home here, staff of the other site
  ASSERT_EQ(gateway->admin()
                .post("/v1/sites/" + other_site + "/staff", {{"member_id", elsewhere.id}})
                .status,
            204);
  const std::string from = fresh_address();
  EXPECT_EQ(call(from, "GET", "/v1/sites/" + other_site + "/desk", acting(desk, elsewhere)).status,
            403);
  EXPECT_EQ(call(from, "GET", "/v1/me", acting(desk, elsewhere)).status, 403);

  const auto colleague = member("collegue");
  gateway->make_staff(place, colleague);
  EXPECT_EQ(call(from, "GET", "/v1/me", acting(desk, colleague)).status, 403);

  const auto plain = member("represente");
  auto me = call(from, "GET", "/v1/me", acting(desk, plain));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["id"], plain.id);
  EXPECT_EQ(me.json()["acting_staff_id"], desk.id);
  EXPECT_EQ(me.json()["roles"], Json::array({"member"}));
  EXPECT_EQ(me.json()["staff_site_ids"], Json::array()) << me.body;
}

// This suite runs alone (tests/CMakeLists.txt, ALONE): the flood fills the stack's password
// queue on purpose (every other suite's login or sign-up would answer 429 meanwhile), and the
// hundred failures must fit in the minute the address limit counts in, whatever else runs.
class E2eAuthFlood : public E2eAuthTest {};

TEST_F(E2eAuthFlood, a_flood_of_wrong_passwords_never_starves_reads) {
  const auto reader = member("lectrice"), read_about = member("voisin");
  const std::string path = "/v1/members/" + read_about.id;
  const std::string reading_from = fresh_address(), guessing_from = fresh_address();
  std::atomic<bool> flooding{true};
  std::atomic<int> bad_logins{0}, throttled{0}, failed_reads{0};
  std::vector<double> read_ms;
  std::thread reads([&] {
    // One read every 20 ms or so, until the flood is over and 50 reads were timed.
    eventually(
        [&] {
          const auto start = std::chrono::steady_clock::now();
          const int status = call(reading_from, "GET", path, bearer(reader.token)).status;
          read_ms.push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count());
          if (status != 200) ++failed_reads;
          return !flooding && read_ms.size() >= 50;
        },
        kReadsTimeoutMs, 20);
  });
  std::vector<std::thread> guessers;
  for (int i = 0; i < kConcurrentLogins; ++i) {
    guessers.emplace_back([&, i] {
      const std::string email = "flood" + std::to_string(i) + "." + unique_suffix() + "@e2e.test";
      const int status = login(guessing_from, email, "pas-le-bon-1").status;
      if (status == 429) ++throttled;
      if (status != 401 && status != 429) ++bad_logins;
    });
  }
  for (auto& t : guessers) t.join();
  flooding = false;
  reads.join();
  std::sort(read_ms.begin(), read_ms.end());
  const double p99 = read_ms[std::min(read_ms.size() - 1, read_ms.size() * 99 / 100)];
  std::printf(
      "[ p99      ] %d concurrent wrong-password logins (%d answered 429): %zu reads of "
      "another member, p99 %.1f ms, max %.1f ms\n",
      kConcurrentLogins, throttled.load(), read_ms.size(), p99, read_ms.back());
  EXPECT_EQ(bad_logins.load(), 0) << "every wrong login answers 401 or 429, never a 5xx";
  EXPECT_EQ(failed_reads.load(), 0);
}

TEST_F(E2eAuthTest, sixth_failed_login_is_429_and_the_address_still_logs_in) {
  const auto target = member("cible"), neighbour = member("voisine");
  const std::string from = fresh_address();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(login(from, target.email, "pas-le-bon-1").status, 401);
  auto sixth = login(from, target.email, "pas-le-bon-1");
  EXPECT_EQ(sixth.status, 429) << sixth.body;
  EXPECT_TRUE(sixth.header("retry-after"));
  EXPECT_EQ(login(from, neighbour.email).status, 200);
}

TEST_F(E2eAuthFlood, the_101st_failure_from_one_address_is_429_and_other_addresses_log_in) {
  const std::string from = fresh_address();
  std::atomic<int> unauthorized{0};
  std::vector<std::thread> guessers;
  for (int g = 0; g < 4; ++g) {
    guessers.emplace_back([&, g] {
      for (int i = g; i < 100; i += 4) {
        const std::string email =
            "devine" + std::to_string(i) + "." + unique_suffix() + "@e2e.test";
        if (login(from, email, "pas-le-bon-1").status == 401) ++unauthorized;
      }
    });
  }
  for (auto& t : guessers) t.join();
  EXPECT_EQ(unauthorized.load(), 100);
  auto next = login(from, "devine-encore@e2e.test", "pas-le-bon-1");
  EXPECT_EQ(next.status, 429) << next.body;
  EXPECT_TRUE(next.header("retry-after"));
  EXPECT_EQ(login(fresh_address(), member("ailleurs").email).status, 200);
}

TEST_F(E2eAuthTest, a_revoked_session_fails_at_once_on_every_service) {
  const auto m = member("partante");
  // One read of each service that needs a member (the depot's shelf is public: a dead token
  // reads it as anyone); the ledger account comes sixth.
  const std::vector<std::string> reads = {"/v1/me",
                                          "/v1/offers?limit=1",
                                          "/v1/requests?limit=1",
                                          "/v1/matches?member=me",
                                          "/v1/exchanges",
                                          "/v1/ledger/accounts/" + m.id,
                                          "/v1/notifications"};
  const std::string from = fresh_address();
  // The ledger opens the account from member.registered.
  ASSERT_TRUE(
      poll_until([&] { return call(from, "GET", reads[5], bearer(m.token)).status == 200; }));
  for (int round = 0; round < 2; ++round) {  // the second round is served from the caches
    for (const auto& path : reads) {
      auto r = call(from, "GET", path, bearer(m.token));
      ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    }
  }
  ASSERT_EQ(call(from, "POST", "/v1/auth/logout", bearer(m.token)).status, 204);
  for (const auto& path : reads)
    EXPECT_EQ(call(from, "GET", path, bearer(m.token)).status, 401) << path;
}

TEST_F(E2eAuthTest, the_session_cookie_needs_its_csrf_token_on_every_service) {
  const auto m = member("navigatrice");
  const std::string from = fresh_address();
  auto r = login(from, m.email);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto session = set_cookie(r, "maillon_session"), csrf = set_cookie(r, "maillon_csrf");
  ASSERT_TRUE(session && csrf) << "cookies through the gateway";
  const Headers cookie = {{"Cookie", "maillon_session=" + *session + "; maillon_csrf=" + *csrf}};
  Headers with_csrf = cookie;
  with_csrf.emplace_back("X-CSRF-Token", *csrf);
  EXPECT_EQ(call(from, "GET", "/v1/me", cookie).status, 200);
  const std::string rename = Json{{"display_name", "Navigatrice"}}.dump();
  EXPECT_EQ(call(from, "PATCH", "/v1/me", cookie, rename).status, 403);
  EXPECT_EQ(call(from, "PATCH", "/v1/me", with_csrf, rename).status, 200);
  EXPECT_EQ(call(from, "POST", "/v1/notifications/read", cookie, "{}").status, 403);
  EXPECT_EQ(call(from, "POST", "/v1/notifications/read", with_csrf, "{}").status, 200);
}

TEST_F(E2eAuthTest, the_stream_takes_a_single_use_ticket_and_never_a_token) {
  const auto m = member("abonnee");
  const std::string from = fresh_address();
  auto issued = call(from, "POST", "/v1/notifications/stream-ticket", bearer(m.token));
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string ticket = issued.json().value("ticket", "");
  auto open = [&](const std::string& query) {
    return request_from(from, gateway->url(), "GET", "/v1/notifications/stream" + query, "", {},
                        true)
        .status;
  };
  EXPECT_EQ(open("?ticket=" + ticket), 200);
  EXPECT_EQ(open("?ticket=" + ticket), 401);
  EXPECT_EQ(open("?access_token=" + m.token), 401);
}

// The mailed links carry their token in the query string (a password reset, an address's
// verification, the calendar feed): the gateway's access log keeps the path and never the query.
TEST_F(E2eAuthTest, the_gateways_log_keeps_no_query_string_so_no_mailed_token) {
  const std::string from = fresh_address();
  const std::string secret = "jeton-secret-" + unique_suffix();
  // The web UI's pages where the mails' links land, then the API's calendar feed and a search.
  for (const char* page : {"/reinitialiser?token=", "/verifier?token="}) {
    request_from(from, gateway->url(), "GET", page + secret, "", {}, false, false);
  }
  call(from, "GET", "/v1/me/calendar.ics?token=" + secret);
  call(from, "GET", "/v1/offers?q=" + secret);
  // nginx writes a line once the answer has left: wait for this client's four lines (its own
  // loopback address starts them).
  const std::vector<std::string> expected = {
      "\"GET /reinitialiser?... HTTP/1.1\"", "\"GET /verifier?... HTTP/1.1\"",
      "\"GET /v1/me/calendar.ics?... HTTP/1.1\"", "\"GET /v1/offers?... HTTP/1.1\""};
  std::string log, mine;
  const bool logged = poll_until([&] {
    std::tie(log, mine) = gateway_log_of(from);
    return std::all_of(expected.begin(), expected.end(), [&](const std::string& part) {
      return mine.find(part) != std::string::npos;
    });
  });
  ASSERT_TRUE(logged) << "this client's lines in the gateway's log:\n" << mine;
  EXPECT_EQ(log.find(secret), std::string::npos) << "a query string reached the access log";
}

// Only this machine's own hop (a TLS terminator connects from 127.0.0.1) and the configured
// proxies are believed about the client's address: any other client, on loopback too, is the
// address it connects from, whatever X-Forwarded-For it sends (so it cannot escape, nor move
// onto somebody else, the limits per address).
TEST_F(E2eAuthTest, a_client_cannot_name_its_own_address_to_the_gateway) {
  std::string from = fresh_address();
  while (from == "127.0.0.1") from = fresh_address();
  const std::string path = "/xff-" + unique_suffix();
  request_from(from, gateway->url(), "GET", path, "", {{"X-Forwarded-For", "203.0.113.77"}}, false,
               false);
  std::string log, mine;
  ASSERT_TRUE(poll_until([&] {
    std::tie(log, mine) = gateway_log_of(from);
    return mine.find(path) != std::string::npos;
  })) << "no line of "
      << from << " for " << path;
  EXPECT_EQ(log.find("203.0.113.77 ["), std::string::npos) << mine;
}

// What nginx refuses before any service sees it speaks problem+json too, never an HTML page: an
// address too long, a malformed one, a method it never passes on, a header too large.
TEST_F(E2eAuthTest, what_the_gateway_refuses_itself_is_a_problem_in_json) {
  const std::string from = fresh_address();
  struct Case {
    std::string method, path;
    Headers headers;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"GET", "/v1/offers?q=" + std::string(9000, 'a'), {}, 414, "uri-too-long"},
      {"GET", "/v1/offers/%C3%A9%00", {}, 400, "invalid-input"},
      {"TRACE", "/v1/offers", {}, 405, "method-not-allowed"},
      // An address no route takes, whatever its extension says (never text/html nor a PDF).
      {"GET", "/v1/nothing.html", {}, 404, "not-found"},
      {"GET", "/v1/labels.pdf", {}, 404, "not-found"},
      {"GET", "/v1/offers", {{"Cookie", "a=" + std::string(40000, 'x')}}, 400, "invalid-input"}};
  for (const Case& c : cases) {
    // Not operations of the contract: the gateway answers them before any route.
    const RawResult r =
        request_from(from, gateway->url(), c.method, c.path, "", c.headers, false, false);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path.substr(0, 40);
    EXPECT_EQ(r.header("content-type").value_or("").rfind("application/problem+json", 0), 0u)
        << c.method << " " << c.path.substr(0, 40) << ": " << r.body.substr(0, 80);
    const Json problem = Json::parse(r.body, nullptr, false);
    EXPECT_EQ(problem.value("code", ""), c.code) << r.body.substr(0, 200);
    EXPECT_EQ(problem.value("status", 0), c.status);
  }
  // A service's own 405 names the methods the address takes (RFC 9110).
  const RawResult wrong_method =
      request_from(from, gateway->url(), "DELETE", "/v1/offers", "", {}, false, false);
  EXPECT_EQ(wrong_method.status, 405) << wrong_method.body;
  const std::string allow = wrong_method.header("allow").value_or("");
  EXPECT_NE(allow.find("GET"), std::string::npos) << allow;
  EXPECT_NE(allow.find("POST"), std::string::npos) << allow;
  EXPECT_EQ(allow.find("DELETE"), std::string::npos) << allow;
}

// A body too large is refused whole, as problem+json, by the service past its 64 KiB and by the
// gateway past 256 KiB, far under the 1 MiB a service's framework reads of one request: past that
// it went on reading the rest of the body as a next request on the same connection.
TEST_F(E2eAuthTest, a_body_too_large_is_one_problem_never_a_second_request) {
  const std::string from = fresh_address();
  const Headers json = {{"Content-Type", "application/json"}};
  for (const std::size_t size :
       {std::size_t{100'000}, std::size_t{300'000}, std::size_t{1u << 20}}) {
    const RawResult r = request_from(from, gateway->url(), "POST", "/v1/offers",
                                     std::string(size, 'a'), json, false, false);
    EXPECT_EQ(r.status, 413) << size << ": " << r.body.substr(0, 120);
    EXPECT_EQ(r.header("content-type").value_or("").rfind("application/problem+json", 0), 0u)
        << size << ": " << r.body.substr(0, 120);
    EXPECT_EQ(Json::parse(r.body, nullptr, false).value("code", ""), "payload-too-large")
        << size << ": " << r.body.substr(0, 120);
  }
}

// Bytes that are not UTF-8 in an address are the client's error on every service: an id that is
// not text names nothing (404), a query value that is not text is invalid (400). They used to
// reach PostgreSQL, which refused them as a 500.
TEST_F(E2eAuthTest, an_address_that_is_not_text_is_the_clients_error_on_every_service) {
  const auto m = member("octets");
  const std::string from = fresh_address();
  const std::vector<std::pair<std::string, int>> cases = {{"/v1/me/calendar.ics?token=%FF", 400},
                                                          {"/v1/offers?q=%FF", 400},
                                                          {"/v1/ledger/transfers/%FF", 404},
                                                          {"/v1/ledger/accounts/%C3%28", 404},
                                                          {"/v1/exchanges/%80", 404},
                                                          {"/v1/items/%FF%FE", 404}};
  for (const auto& [path, status] : cases) {
    const RawResult r = call(from, "GET", path, bearer(m.token));
    EXPECT_EQ(r.status, status) << path << ": " << r.body.substr(0, 160);
    EXPECT_EQ(Json::parse(r.body, nullptr, false).value("code", ""),
              status == 400 ? "invalid-input" : "not-found")
        << path << ": " << r.body.substr(0, 160);
  }
}

TEST_F(E2eAuthTest, an_empty_on_behalf_of_is_refused_not_taken_for_none) {
  // A desk whose member field was left blank: without the header, the staff member's payment
  // would be a grant from the community's account.
  const auto desk = member("guichet-vide");
  gateway->make_staff(place, desk);
  const auto neighbour = member("voisine-vide");
  const RawResult r =
      call(fresh_address(), "POST", "/v1/ledger/transfers",
           {{"Authorization", "Bearer " + desk.token}, {"X-On-Behalf-Of", ""}},
           Json{{"id", new_uuid()}, {"to_member_id", neighbour.id}, {"minutes", 1}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("X-On-Behalf-Of"), std::string::npos) << r.body;
}

TEST_F(E2eAuthTest, a_page_of_another_site_cannot_log_a_browser_in) {
  const auto m = member("visitee");
  const std::string from = fresh_address();
  const std::string body = Json{{"email", m.email}, {"password", kPassword}}.dump();
  // A form of another site posting text/plain: its browser sends that site's Origin ("null" from
  // a sandboxed frame) and, when recent, Sec-Fetch-Site.
  const std::vector<Headers> from_elsewhere = {
      {{"Origin", "https://evil.example"}},
      {{"Origin", "null"}},
      {{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}},
      {{"Sec-Fetch-Site", "same-site"}}};
  for (const Headers& headers : from_elsewhere) {
    const RawResult r = call(from, "POST", "/v1/auth/login", headers, body);
    EXPECT_EQ(r.status, 403) << headers.front().second << ": " << r.body;
    EXPECT_EQ(Json::parse(r.body, nullptr, false).value("code", ""), "cross-site-request");
    EXPECT_FALSE(r.header("set-cookie").has_value()) << "no session for the attacker's account";
  }
  const RawResult reset =
      call(from, "POST", "/v1/auth/password-reset", {{"Origin", "https://evil.example"}},
           Json{{"email", m.email}}.dump());
  EXPECT_EQ(reset.status, 403) << reset.body;
  // The web UI's own pages log in, and so do clients outside a browser (no Origin).
  EXPECT_EQ(call(from, "POST", "/v1/auth/login",
                 {{"Origin", gateway->url()}, {"Sec-Fetch-Site", "same-origin"}}, body)
                .status,
            200);
  EXPECT_EQ(call(from, "POST", "/v1/auth/login", {{"Origin", gateway->url()}}, body).status, 200);
  EXPECT_EQ(login(from, m.email).status, 200);
}

}  // namespace
}  // namespace maillon::testing::auth
