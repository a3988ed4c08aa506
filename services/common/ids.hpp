// Identifiers and tokens: random UUIDs, deterministic name-based UUIDs, session tokens, hashes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace maillon {

std::string new_uuid();  // random (version 4), from libsodium's CSPRNG
// A UUID derived from a name, stable across processes and replicas (e.g.
// "allowance:<member>:2026-11"), so that a retried or duplicated command carries the same id.
std::string uuid_from_name(std::string_view name);
std::string new_token();                         // 256 random bits, base64url without padding
std::string token_hash(std::string_view token);  // hex BLAKE2b-256: what is stored, never the token
std::string to_hex(const unsigned char* data, std::size_t size);
// Current time as RFC 3339 UTC with microseconds.
std::string now_rfc3339();

}  // namespace maillon
