// The request headers that cross a trust boundary, read by pure functions (no I/O, no clock):
// Authorization, X-On-Behalf-Of, Cookie, X-CSRF-Token and X-Forwarded-For. The services call
// them through Authenticator and HttpServer; the fuzz targets call them directly.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maillon {

// Session tokens are 43 base64url characters; anything far from that is refused unread.
inline constexpr std::size_t kTokenLengthMin = 20;
inline constexpr std::size_t kTokenLengthMax = 200;

// The web session and its CSRF companion (see csrf_token_for).
inline constexpr std::string_view kSessionCookie = "maillon_session";
inline constexpr std::string_view kCsrfCookie = "maillon_csrf";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";

// "Bearer <token>" (scheme case-insensitive, RFC 9110) → the token when it is a plausible one
// (base64url characters, kTokenLength bounds); nullopt for any other header.
std::optional<std::string> bearer_token(std::string_view header);

// X-On-Behalf-Of: a member id, a UUID in any case → its canonical lower-case form.
std::optional<std::string> parse_member_id(std::string_view header);

// The value of cookie `name` in a Cookie request header ("a=1; b=2"), unquoted. nullopt when
// absent, malformed, or present twice with different values (a cookie planted from a
// sibling domain must not choose whose session this is).
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

// The CSRF value of a web session: keyed BLAKE2b of the session token, base64url. Only whoever
// holds the token can compute it, so a page of another site can neither read nor forge it.
std::string csrf_token_for(std::string_view session_token);
// Constant-time comparison of a presented X-CSRF-Token with the session's value.
bool csrf_token_matches(std::string_view presented, std::string_view session_token);
// POST, PUT, PATCH, DELETE (and anything unknown): what a cookie alone may not authorise.
bool is_unsafe_method(std::string_view method);

// Whether a browser sent this request from a page of another site: Sec-Fetch-Site says so
// (cross-site, or same-site: a sibling host is not this one), or, from a browser that sends no
// Sec-Fetch-Site, an Origin whose host is not the Host the request was sent to ("null" included).
// A request from outside a browser carries neither header and is not one. A form of another
// site can post text/plain to a route that needs no session (a login into the attacker's
// account): the services refuse such requests on every unsafe method.
bool is_cross_site_request(std::optional<std::string_view> sec_fetch_site,
                           std::optional<std::string_view> origin,
                           std::optional<std::string_view> host);

// Set-Cookie values for login and logout (Secure, SameSite=Lax: a link in a mail still opens a
// logged-in page, a form posted from another site carries no cookie).
std::string session_set_cookie(std::string_view token, int64_t max_age_seconds);
std::string csrf_set_cookie(std::string_view csrf_value, int64_t max_age_seconds);
std::vector<std::string> cleared_session_cookies();

// An IPv4 or IPv6 address; IPv4 is kept as an IPv4-mapped IPv6 address.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
  bool is_v4() const;
  std::string text() const;  // canonical (inet_ntop) form, IPv4 dotted
};
// "192.0.2.1", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:443", "192.0.2.1:8080".
std::optional<IpAddress> parse_ip(std::string_view text);

struct IpRange {
  IpAddress base;
  int prefix_bits = 128;  // on the 128-bit form (an IPv4 /8 is 96 + 8)
  bool contains(const IpAddress& a) const;
};

// MAILLON_TRUSTED_PROXIES: comma-separated CIDRs or addresses ("10.0.0.0/8, ::1").
class TrustedProxies {
 public:
  static inline constexpr std::string_view kDefault = "127.0.0.0/8,::1";
  static inline constexpr std::size_t kRangesMax = 64;
  // nullopt when any item is malformed (a start-up error) or there are too many.
  static std::optional<TrustedProxies> parse(std::string_view list);
  bool contains(const IpAddress& a) const;

 private:
  std::vector<IpRange> ranges_;
};

// Who is calling. When the TCP peer is a trusted proxy, X-Forwarded-For is read from the right:
// the right-most address that is not a trusted proxy is the client (a client can prepend what
// it likes, never append). With every hop trusted, the left-most one; without the header,
// X-Real-IP. An untrusted peer is the client whatever it says. The answer is canonical text.
std::string client_address(std::string_view peer, std::optional<std::string_view> forwarded_for,
                           std::optional<std::string_view> real_ip, const TrustedProxies& trusted);
// The rate-limit key of an address: IPv6 by its /64 (one household or one host), IPv4 whole.
std::string address_bucket(std::string_view address);

}  // namespace maillon
