// libFuzzer target for the headers that carry who is calling: Authorization (Bearer),
// X-On-Behalf-Of, Cookie and X-CSRF-Token. Any bytes must give an answer that keeps each parser's
// promise (a plausible token, a canonical member id, a cookie value without separators, a CSRF
// check that only the session's own value passes), never a crash or another exception.
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/common/auth_headers.hpp"

namespace {

using namespace maillon;

const std::string kSessionToken = "BzBUlgsQQDrfj4uT4KoaXS1R8FaiSADqFjurWFA4MS4";

void expect(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "broken promise: %s\n", what);
  std::abort();
}

bool base64url(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

void check_authorization(std::string_view header) {
  auto token = bearer_token(header);
  if (!token) return;
  expect(token->size() >= kTokenLengthMin && token->size() <= kTokenLengthMax, "token length");
  expect(std::all_of(token->begin(), token->end(), base64url), "token characters");
  expect(header.find(*token) != std::string_view::npos, "token taken from the header");
}

void check_on_behalf_of(std::string_view header) {
  auto id = parse_member_id(header);
  if (!id) return;
  expect(id->size() == 36, "member id length");
  for (std::size_t i = 0; i < id->size(); ++i) {
    const char c = (*id)[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    expect(
        dash ? c == '-' : (std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f')),
        "member id is canonical");
  }
  expect(parse_member_id(*id) == id, "canonical form is a fixed point");
}

void check_cookie(std::string_view header) {
  for (std::string_view name : {kSessionCookie, kCsrfCookie}) {
    auto value = cookie_value(header, name);
    if (!value) continue;
    expect(value->find(';') == std::string::npos, "cookie value holds no separator");
    expect(value->size() <= header.size(), "cookie value bounded by the header");
  }
}

void check_csrf(std::string_view header) {
  const std::string expected = csrf_token_for(kSessionToken);
  if (csrf_token_matches(header, kSessionToken)) {
    std::string_view trimmed = header;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t'))
      trimmed.remove_prefix(1);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t'))
      trimmed.remove_suffix(1);
    expect(trimmed == expected, "only the session's own CSRF value passes");
  }
  // Any bytes as a session: its own value passes, and it is never the session itself.
  const std::string derived = csrf_token_for(header);
  expect(csrf_token_matches(derived, header), "a session's CSRF value passes");
  expect(header.empty() || derived != header, "the CSRF value is not the session");
}

// Any bytes as an Origin: the host itself is never cross-site, and without the browser's
// headers nothing is.
void check_cross_site(std::string_view header) {
  expect(!is_cross_site_request(std::nullopt, std::nullopt, header), "no browser header");
  const std::string origin = "https://" + std::string(header.substr(0, header.find('/')));
  if (!header.empty() && header.find('/') == std::string_view::npos)
    expect(!is_cross_site_request(std::nullopt, origin, header), "an origin on its own host");
  expect(is_cross_site_request("cross-site", origin, header), "Sec-Fetch-Site decides");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  try {
    check_authorization(header);
    check_on_behalf_of(header);
    check_cookie(header);
    check_csrf(header);
    check_cross_site(header);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "a header parser threw %s\n", e.what());
    std::abort();
  }
  return 0;
}
