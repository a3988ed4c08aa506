// Ed25519 signatures (libsodium) over exact bytes, and base64 for keys and signatures in JSON and
// headers: what installations that trade with each other (federation) prove their messages with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace maillon {

inline constexpr std::size_t kSigningPublicKeyBytes = 32;
inline constexpr std::size_t kSigningSecretKeyBytes = 64;  // libsodium's seed + public key
inline constexpr std::size_t kSignatureBytes = 64;

// Keys as raw bytes in std::string (PostgreSQL bytea in and out without a copy to another type).
struct SigningKeyPair {
  std::string public_key;  // kSigningPublicKeyBytes
  std::string secret_key;  // kSigningSecretKeyBytes; never logged, never sent
};

// A fresh key pair from libsodium's CSPRNG.
SigningKeyPair generate_signing_key_pair();
// The detached signature (kSignatureBytes) of exactly `message`. `secret_key` must be a key
// generate_signing_key_pair made (a wrong size is a bug: it throws std::invalid_argument).
std::string sign_detached(std::string_view message, std::string_view secret_key);
// Whether `signature` is `public_key`'s over exactly `message`. Any wrong size is false.
bool verify_detached(std::string_view message, std::string_view signature,
                     std::string_view public_key);

// Standard base64 with padding (RFC 4648 §4), as in the Maillon-Signature header.
std::string base64_encode(std::string_view raw);
// Empty when `text` is not standard base64 (no spaces, no URL-safe alphabet).
std::optional<std::string> base64_decode(std::string_view text);

// The Maillon-Signature header: "ed25519=<base64 signature>".
std::string signature_header(std::string_view message, std::string_view secret_key);
// The raw signature a header carries, or empty when it is not "ed25519=<64 bytes in base64>".
std::optional<std::string> signature_from_header(std::string_view header);

}  // namespace maillon
