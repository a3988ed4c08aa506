// Ids and tokens on libsodium: its CSPRNG and BLAKE2b.
#include "services/common/ids.hpp"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "services/common/clock.hpp"
#include "services/common/time.hpp"

namespace maillon {
namespace {

struct SodiumInit {
  SodiumInit() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
};

void ensure_sodium() {
  static SodiumInit init;
}

std::string format_uuid(unsigned char b[16]) {
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace

std::string to_hex(const unsigned char* data, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xF];
  }
  return out;
}

std::string new_uuid() {
  ensure_sodium();
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  return format_uuid(b);
}

std::string uuid_from_name(std::string_view name) {
  ensure_sodium();
  unsigned char b[16];
  crypto_generichash(b, sizeof b, reinterpret_cast<const unsigned char*>(name.data()), name.size(),
                     reinterpret_cast<const unsigned char*>("maillon-uuid-ns1"), 16);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x80);  // version 8: custom, name-based
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  return format_uuid(b);
}

std::string new_token() {
  ensure_sodium();
  unsigned char b[32];
  randombytes_buf(b, sizeof b);
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

std::string token_hash(std::string_view token) {
  ensure_sodium();
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return to_hex(h, sizeof h);
}

std::string now_rfc3339() {
  return format_rfc3339_us(system_now_us());
}

}  // namespace maillon
