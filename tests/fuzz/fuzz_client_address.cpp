// libFuzzer target for who the client is: the TCP peer, X-Forwarded-For, X-Real-IP and the
// MAILLON_TRUSTED_PROXIES list, one per line of the input. Whatever they hold, the answer is
// the untrusted peer itself, or an address the chain holds, in canonical form; never a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/auth_headers.hpp"

namespace {

using namespace maillon;

void expect(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "broken promise: %s\n", what);
  std::abort();
}

std::vector<std::string_view> lines(std::string_view text, std::size_t count) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < count) {
    auto end = text.find('\n');
    if (end == std::string_view::npos) break;
    out.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  out.push_back(text);
  while (out.size() < count) out.emplace_back();
  return out;
}

bool holds(std::string_view chain, const IpAddress& a) {
  while (true) {
    auto comma = chain.find(',');
    if (auto hop = parse_ip(chain.substr(0, comma)); hop && *hop == a) return true;
    if (comma == std::string_view::npos) return false;
    chain.remove_prefix(comma + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = lines(std::string_view(reinterpret_cast<const char*>(data), size), 4);
  try {
    for (auto part : parts) {
      if (auto ip = parse_ip(part)) expect(parse_ip(ip->text()) == ip, "canonical text round trip");
      address_bucket(part);
    }
    auto trusted = TrustedProxies::parse(parts[3]);
    if (!trusted) trusted = TrustedProxies::parse(TrustedProxies::kDefault);
    const std::optional<std::string_view> forwarded =
        parts[1].empty() ? std::nullopt : std::optional(parts[1]);
    const std::optional<std::string_view> real_ip =
        parts[2].empty() ? std::nullopt : std::optional(parts[2]);
    const std::string client = client_address(parts[0], forwarded, real_ip, *trusted);
    auto peer = parse_ip(parts[0]);
    if (!peer) return 0;
    auto answer = parse_ip(client);
    expect(answer.has_value(), "the client of a real peer is an address");
    expect(answer->text() == client, "the client is in canonical form");
    if (!trusted->contains(*peer)) {
      expect(*answer == *peer, "an untrusted peer is the client");
    } else if (forwarded) {
      expect(*answer == *peer || holds(*forwarded, *answer), "the client comes from the chain");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "client address parsing threw %s\n", e.what());
    std::abort();
  }
  return 0;
}
