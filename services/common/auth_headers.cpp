// Parsers of the headers that cross a trust boundary: pure, bounded, and fuzzed
// (tests/fuzz/fuzz_auth_headers.cpp, tests/fuzz/fuzz_client_address.cpp).
#include "services/common/auth_headers.hpp"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>

namespace maillon {
namespace {

// Domain separation for the CSRF value: the same token gives unrelated values for other uses.
constexpr std::string_view kCsrfKey = "maillon.csrf.v1:session-cookie!!";  // 32 bytes
static_assert(kCsrfKey.size() == crypto_generichash_KEYBYTES);
constexpr std::size_t kCsrfBytes = 32;
constexpr std::size_t kCookieHeaderMax = 8192;
constexpr std::size_t kForwardedHopsMax = 32;  // a longer chain is read only this far
constexpr std::size_t kAddressTextMax = 64;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool plausible_token(std::string_view t) {
  return t.size() >= kTokenLengthMin && t.size() <= kTokenLengthMax &&
         std::all_of(t.begin(), t.end(), is_base64url);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string cookie(std::string_view name, std::string_view value, int64_t max_age, bool http_only) {
  std::string out = std::string(name) + "=" + std::string(value) +
                    "; Path=/; Max-Age=" + std::to_string(std::max<int64_t>(0, max_age)) +
                    "; Secure; SameSite=Lax";
  if (http_only) out += "; HttpOnly";
  return out;
}

// An address possibly with brackets and a port: "[::1]:80" → "::1", "1.2.3.4:80" → "1.2.3.4".
std::string_view strip_port(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return {};
    auto rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return {};
    return s.substr(1, close - 1);
  }
  auto colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos)
    return s.substr(0, colon);  // one colon: IPv4 with a port (IPv6 has at least two)
  return s;
}

std::optional<IpRange> parse_range(std::string_view item) {
  item = trim(item);
  auto slash = item.find('/');
  auto address = parse_ip(item.substr(0, slash));
  if (!address) return std::nullopt;
  const int full = address->is_v4() ? 32 : 128;
  int bits = full;
  if (slash != std::string_view::npos) {
    auto digits = item.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    bits = std::stoi(std::string(digits));
    if (bits > full) return std::nullopt;
  }
  return IpRange{*address, address->is_v4() ? 96 + bits : bits};
}

}  // namespace

std::optional<std::string> bearer_token(std::string_view header) {
  header = trim(header);
  auto space = header.find_first_of(" \t");
  if (space == std::string_view::npos || !iequals(header.substr(0, space), "bearer"))
    return std::nullopt;
  auto token = trim(header.substr(space));
  if (!plausible_token(token)) return std::nullopt;
  return std::string(token);
}

std::optional<std::string> parse_member_id(std::string_view header) {
  header = trim(header);
  if (header.size() != 36) return std::nullopt;
  std::string out(header);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here ? out[i] != '-' : hex_value(out[i]) < 0) return std::nullopt;
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  if (header.size() > kCookieHeaderMax || name.empty()) return std::nullopt;
  std::optional<std::string> found;
  while (!header.empty()) {
    auto end = header.find(';');
    auto pair = trim(header.substr(0, end));
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
    auto value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (found && *found != value) return std::nullopt;
    found = std::string(value);
  }
  return found;
}

std::string csrf_token_for(std::string_view session_token) {
  unsigned char digest[kCsrfBytes];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(session_token.data()),
                     session_token.size(), reinterpret_cast<const unsigned char*>(kCsrfKey.data()),
                     kCsrfKey.size());
  char text[sodium_base64_ENCODED_LEN(kCsrfBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, digest, sizeof digest,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return text;
}

bool csrf_token_matches(std::string_view presented, std::string_view session_token) {
  const std::string expected = csrf_token_for(session_token);
  presented = trim(presented);
  if (presented.size() != expected.size()) return false;
  return sodium_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

bool is_unsafe_method(std::string_view method) {
  return !(method == "GET" || method == "HEAD" || method == "OPTIONS");
}

namespace {

// "example.org:8080", "[2001:db8::1]:443" → the host alone, lower-cased.
std::string host_name(std::string_view authority) {
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket))
    authority = authority.substr(0, colon);
  std::string out(authority);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool is_cross_site_request(std::optional<std::string_view> sec_fetch_site,
                           std::optional<std::string_view> origin,
                           std::optional<std::string_view> host) {
  if (sec_fetch_site) return *sec_fetch_site == "cross-site" || *sec_fetch_site == "same-site";
  if (!origin) return false;
  const auto scheme_end = origin->find("://");
  if (scheme_end == std::string_view::npos) return true;  // "null", or nothing a browser sends
  if (!host) return false;
  std::string_view authority = origin->substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  return authority.empty() || host_name(authority) != host_name(*host);
}

std::string session_set_cookie(std::string_view token, int64_t max_age_seconds) {
  return cookie(kSessionCookie, token, max_age_seconds, true);
}

std::string csrf_set_cookie(std::string_view csrf_value, int64_t max_age_seconds) {
  // Readable by the page's script, which copies it into X-CSRF-Token.
  return cookie(kCsrfCookie, csrf_value, max_age_seconds, false);
}

std::vector<std::string> cleared_session_cookies() {
  return {cookie(kSessionCookie, "", 0, true), cookie(kCsrfCookie, "", 0, false)};
}

bool IpAddress::is_v4() const {
  static constexpr std::array<uint8_t, 12> mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(mapped.begin(), mapped.end(), bytes.begin());
}

std::string IpAddress::text() const {
  char out[INET6_ADDRSTRLEN] = {0};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, out, sizeof out);
  } else {
    inet_ntop(AF_INET6, bytes.data(), out, sizeof out);
  }
  return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  text = strip_port(trim(text));
  if (text.empty() || text.size() > kAddressTextMax) return std::nullopt;
  const std::string zero_terminated(text);
  IpAddress a;
  unsigned char v4[4];
  if (inet_pton(AF_INET, zero_terminated.c_str(), v4) == 1) {
    a.bytes[10] = a.bytes[11] = 0xff;
    std::copy(v4, v4 + 4, a.bytes.begin() + 12);
    return a;
  }
  if (inet_pton(AF_INET6, zero_terminated.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

bool IpRange::contains(const IpAddress& a) const {
  int bits = prefix_bits;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<TrustedProxies> TrustedProxies::parse(std::string_view list) {
  TrustedProxies out;
  while (!trim(list).empty()) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    auto range = parse_range(item);
    if (!range || out.ranges_.size() >= kRangesMax) return std::nullopt;
    out.ranges_.push_back(*range);
  }
  return out;
}

bool TrustedProxies::contains(const IpAddress& a) const {
  return std::any_of(ranges_.begin(), ranges_.end(), [&](const auto& r) { return r.contains(a); });
}

std::string client_address(std::string_view peer_text,
                           std::optional<std::string_view> forwarded_for,
                           std::optional<std::string_view> real_ip, const TrustedProxies& trusted) {
  auto peer = parse_ip(peer_text);
  if (!peer) return std::string(peer_text.substr(0, kAddressTextMax));
  if (!trusted.contains(*peer)) return peer->text();
  if (forwarded_for) {
    IpAddress client = *peer;  // the last hop we could read
    std::string_view rest = *forwarded_for;
    for (std::size_t hops = 0; hops < kForwardedHopsMax && !trim(rest).empty(); ++hops) {
      auto comma = rest.rfind(',');
      auto item = rest.substr(comma == std::string_view::npos ? 0 : comma + 1);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      auto hop = parse_ip(item);
      if (!hop) break;  // garbage left of a trusted hop: keep the hop that we trust to have seen
      client = *hop;
      if (!trusted.contains(*hop)) break;
    }
    return client.text();
  }
  if (real_ip) {
    if (auto real = parse_ip(*real_ip)) return real->text();
  }
  return peer->text();
}

std::string address_bucket(std::string_view address) {
  auto a = parse_ip(address);
  if (!a) return std::string(address.substr(0, kAddressTextMax));
  if (a->is_v4()) return a->text();
  std::fill(a->bytes.begin() + 8, a->bytes.end(), 0);
  return a->text() + "/64";
}

}  // namespace maillon
