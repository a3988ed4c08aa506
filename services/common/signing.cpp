// Ed25519 over libsodium: the signature is detached so that the exact bytes sent (an HTTP body)
// stay as they are, and the signature travels beside them in a header.
#include "services/common/signing.hpp"

#include <sodium.h>

#include <stdexcept>

namespace maillon {
namespace {

static_assert(crypto_sign_PUBLICKEYBYTES == kSigningPublicKeyBytes);
static_assert(crypto_sign_SECRETKEYBYTES == kSigningSecretKeyBytes);
static_assert(crypto_sign_BYTES == kSignatureBytes);

constexpr std::string_view kHeaderScheme = "ed25519=";

void init_sodium() {
  // Thread-safe and idempotent; a failure leaves no safe way on (no randomness).
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

SigningKeyPair generate_signing_key_pair() {
  init_sodium();
  SigningKeyPair pair;
  pair.public_key.resize(kSigningPublicKeyBytes);
  pair.secret_key.resize(kSigningSecretKeyBytes);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(pair.public_key.data()),
                      reinterpret_cast<unsigned char*>(pair.secret_key.data()));
  return pair;
}

std::string sign_detached(std::string_view message, std::string_view secret_key) {
  if (secret_key.size() != kSigningSecretKeyBytes)
    throw std::invalid_argument("an Ed25519 secret key is 64 bytes");
  init_sodium();
  std::string signature(kSignatureBytes, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr, bytes(message),
                       message.size(), bytes(secret_key));
  return signature;
}

bool verify_detached(std::string_view message, std::string_view signature,
                     std::string_view public_key) {
  if (signature.size() != kSignatureBytes || public_key.size() != kSigningPublicKeyBytes)
    return false;
  init_sodium();
  return crypto_sign_verify_detached(bytes(signature), bytes(message), message.size(),
                                     bytes(public_key)) == 0;
}

std::string base64_encode(std::string_view raw) {
  init_sodium();
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes(raw), raw.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL libsodium writes
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  init_sodium();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string signature_header(std::string_view message, std::string_view secret_key) {
  return std::string(kHeaderScheme) + base64_encode(sign_detached(message, secret_key));
}

std::optional<std::string> signature_from_header(std::string_view header) {
  if (header.substr(0, kHeaderScheme.size()) != kHeaderScheme) return std::nullopt;
  auto signature = base64_decode(header.substr(kHeaderScheme.size()));
  if (!signature || signature->size() != kSignatureBytes) return std::nullopt;
  return signature;
}

}  // namespace maillon
