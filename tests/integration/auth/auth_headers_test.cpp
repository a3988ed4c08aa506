// The trust-boundary header parsers (services/common/auth_headers): what each accepts, what it
// refuses, and who the client is behind trusted proxies.
#include "services/common/auth_headers.hpp"

#include <gtest/gtest.h>

namespace maillon {
namespace {

const std::string kToken = "BzBUlgsQQDrfj4uT4KoaXS1R8FaiSADqFjurWFA4MS4";

TEST(AuthHeaders, bearer_scheme_is_case_insensitive_and_the_token_must_be_plausible) {
  EXPECT_EQ(bearer_token("Bearer " + kToken), kToken);
  EXPECT_EQ(bearer_token("bearer   " + kToken + " "), kToken);
  EXPECT_FALSE(bearer_token("Basic " + kToken));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer short"));
  EXPECT_FALSE(bearer_token("Bearer " + kToken + "; drop"));
  EXPECT_FALSE(bearer_token("Bearer " + std::string(201, 'a')));
}

TEST(AuthHeaders, on_behalf_of_is_a_uuid_in_canonical_form) {
  EXPECT_EQ(parse_member_id(" 0A1B2C3D-0000-4000-8000-00000000ABCD "),
            "0a1b2c3d-0000-4000-8000-00000000abcd");
  EXPECT_FALSE(parse_member_id("0a1b2c3d00004000800000000000abcd"));
  EXPECT_FALSE(parse_member_id("0a1b2c3d-0000-4000-8000-00000000abcg"));
  EXPECT_FALSE(parse_member_id("' OR 1=1 --"));
}

TEST(AuthHeaders, cookie_values_are_found_unquoted_and_an_ambiguous_one_is_refused) {
  EXPECT_EQ(cookie_value("a=1; maillon_session=abc; b=2", "maillon_session"), "abc");
  EXPECT_EQ(cookie_value("maillon_session=\"abc\"", "maillon_session"), "abc");
  EXPECT_EQ(cookie_value("maillon_session=abc; maillon_session=abc", "maillon_session"), "abc");
  EXPECT_FALSE(cookie_value("maillon_session=abc; maillon_session=xyz", "maillon_session"));
  EXPECT_FALSE(cookie_value("xmaillon_session=abc", "maillon_session"));
  EXPECT_FALSE(cookie_value("maillon_session", "maillon_session"));
}

TEST(AuthHeaders, csrf_value_is_derived_from_the_session_and_checked_exactly) {
  const std::string csrf = csrf_token_for(kToken);
  EXPECT_EQ(csrf, csrf_token_for(kToken));
  EXPECT_NE(csrf, csrf_token_for(kToken + "x"));
  EXPECT_EQ(csrf.find(kToken), std::string::npos);
  EXPECT_TRUE(csrf_token_matches(csrf, kToken));
  EXPECT_FALSE(csrf_token_matches(csrf.substr(1), kToken));
  EXPECT_FALSE(csrf_token_matches("", kToken));
  EXPECT_FALSE(csrf_token_matches(kToken, kToken));
  EXPECT_TRUE(is_unsafe_method("POST"));
  EXPECT_TRUE(is_unsafe_method("DELETE"));
  EXPECT_FALSE(is_unsafe_method("GET"));
}

TEST(AuthHeaders, a_browsers_request_from_another_site_is_told_apart) {
  const auto host = std::optional<std::string_view>("maillon.example:8080");
  // Sec-Fetch-Site decides when the browser sends it.
  EXPECT_FALSE(is_cross_site_request("same-origin", "https://evil.example", host));
  EXPECT_FALSE(is_cross_site_request("none", std::nullopt, host));
  EXPECT_TRUE(is_cross_site_request("cross-site", "https://maillon.example", host));
  EXPECT_TRUE(is_cross_site_request("same-site", std::nullopt, host)) << "a sibling host";
  // Else the Origin's host against the Host the request went to (ports aside: nginx's $host
  // has none).
  EXPECT_FALSE(is_cross_site_request(std::nullopt, "https://maillon.example", host));
  EXPECT_FALSE(
      is_cross_site_request(std::nullopt, "http://MAILLON.example:8080", "maillon.example"));
  EXPECT_TRUE(is_cross_site_request(std::nullopt, "https://evil.example", host));
  EXPECT_TRUE(is_cross_site_request(std::nullopt, "https://maillon.example.evil.example", host));
  EXPECT_TRUE(is_cross_site_request(std::nullopt, "null", host)) << "a sandboxed page";
  EXPECT_FALSE(is_cross_site_request(std::nullopt, "http://[::1]:8080", "[::1]"));
  EXPECT_TRUE(is_cross_site_request(std::nullopt, "http://[::2]:8080", "[::1]:8080"));
  // Outside a browser (curl, a desk's script), neither header: nothing to refuse.
  EXPECT_FALSE(is_cross_site_request(std::nullopt, std::nullopt, host));
  EXPECT_FALSE(is_cross_site_request(std::nullopt, "https://evil.example", std::nullopt));
}

TEST(AuthHeaders, session_cookies_are_http_only_secure_and_lax) {
  const std::string session = session_set_cookie(kToken, 60);
  EXPECT_EQ(session.rfind("maillon_session=" + kToken + ";", 0), 0u);
  for (const char* attribute : {"HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=60"})
    EXPECT_NE(session.find(attribute), std::string::npos) << attribute;
  const std::string csrf = csrf_set_cookie("v", 60);
  EXPECT_EQ(csrf.find("HttpOnly"), std::string::npos);  // the page's script reads it
  EXPECT_NE(csrf.find("SameSite=Lax"), std::string::npos);
  for (const auto& cleared : cleared_session_cookies())
    EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos);
}

TEST(AuthHeaders, trusted_proxies_parse_cidrs_and_refuse_garbage) {
  auto trusted = TrustedProxies::parse("10.0.0.0/8, 2001:db8::/32,192.0.2.7");
  ASSERT_TRUE(trusted);
  EXPECT_TRUE(trusted->contains(*parse_ip("10.200.3.4")));
  EXPECT_TRUE(trusted->contains(*parse_ip("::ffff:10.1.1.1")));
  EXPECT_TRUE(trusted->contains(*parse_ip("2001:db8:5::1")));
  EXPECT_TRUE(trusted->contains(*parse_ip("192.0.2.7")));
  EXPECT_FALSE(trusted->contains(*parse_ip("192.0.2.8")));
  EXPECT_FALSE(trusted->contains(*parse_ip("11.0.0.1")));
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/33"));
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/8,nope"));
  EXPECT_TRUE(TrustedProxies::parse(""));
}

TEST(AuthHeaders, client_is_the_right_most_untrusted_forwarded_address) {
  auto trusted = *TrustedProxies::parse("10.0.0.0/8,127.0.0.0/8,::1");
  // A client may prepend anything; the proxy appends what it saw.
  EXPECT_EQ(client_address("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.3", std::nullopt, trusted),
            "203.0.113.9");
  // An untrusted peer is the client whatever it claims.
  EXPECT_EQ(client_address("198.51.100.4", "127.0.0.1", "127.0.0.1", trusted), "198.51.100.4");
  // Every hop trusted: the left-most (a test client on 127.0.0.x behind the local gateway).
  EXPECT_EQ(client_address("127.0.0.1", "127.0.0.42", std::nullopt, trusted), "127.0.0.42");
  // Garbage left of a trusted hop: that hop is the best we know.
  EXPECT_EQ(client_address("127.0.0.1", "evil, 10.1.2.3", std::nullopt, trusted), "10.1.2.3");
  EXPECT_EQ(client_address("127.0.0.1", "[2001:db8::5]:443", std::nullopt, trusted), "2001:db8::5");
  EXPECT_EQ(client_address("127.0.0.1", std::nullopt, "198.51.100.1", trusted), "198.51.100.1");
  EXPECT_EQ(client_address("127.0.0.1", std::nullopt, std::nullopt, trusted), "127.0.0.1");
}

TEST(AuthHeaders, an_ipv6_client_is_one_bucket_per_64) {
  EXPECT_EQ(address_bucket("2001:db8:1:2:aaaa::1"), address_bucket("2001:db8:1:2:bbbb::9"));
  EXPECT_NE(address_bucket("2001:db8:1:2::1"), address_bucket("2001:db8:1:3::1"));
  EXPECT_EQ(address_bucket("192.0.2.1"), "192.0.2.1");
}

}  // namespace
}  // namespace maillon
