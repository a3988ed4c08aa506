// Ed25519 signing of federation messages (services/common/signing.hpp): no I/O, the rules only.
// A message is accepted only with the signature of the key it claims, over exactly its bytes.
#include "services/common/signing.hpp"

#include <gtest/gtest.h>

#include <string>

namespace maillon {
namespace {

const std::string kBody = R"({"id":"6f1c2a90","type":"transfer.hold","payload":{"minutes":90}})";

TEST(SigningTest, a_signature_verifies_over_the_exact_bytes_with_the_signers_key) {
  const SigningKeyPair keys = generate_signing_key_pair();
  EXPECT_EQ(keys.public_key.size(), kSigningPublicKeyBytes);
  EXPECT_EQ(keys.secret_key.size(), kSigningSecretKeyBytes);
  const std::string signature = sign_detached(kBody, keys.secret_key);
  EXPECT_EQ(signature.size(), kSignatureBytes);
  EXPECT_TRUE(verify_detached(kBody, signature, keys.public_key));
}

TEST(SigningTest, a_tampered_message_is_refused) {
  const SigningKeyPair keys = generate_signing_key_pair();
  const std::string signature = sign_detached(kBody, keys.secret_key);
  std::string tampered = kBody;
  tampered[tampered.find("90")] = '9';
  tampered[tampered.find("90") + 1] = '9';
  EXPECT_FALSE(verify_detached(tampered, signature, keys.public_key));
  // One byte more (a space a proxy would add) is another message as well.
  EXPECT_FALSE(verify_detached(kBody + " ", signature, keys.public_key));
}

TEST(SigningTest, a_forged_signature_from_another_key_is_refused) {
  const SigningKeyPair partner = generate_signing_key_pair();
  const SigningKeyPair forger = generate_signing_key_pair();
  EXPECT_NE(partner.public_key, forger.public_key);
  const std::string forged = sign_detached(kBody, forger.secret_key);
  EXPECT_FALSE(verify_detached(kBody, forged, partner.public_key));
  std::string flipped = sign_detached(kBody, partner.secret_key);
  flipped[10] = static_cast<char>(flipped[10] ^ 1);
  EXPECT_FALSE(verify_detached(kBody, flipped, partner.public_key));
}

TEST(SigningTest, wrong_sizes_are_refused_never_read_past) {
  const SigningKeyPair keys = generate_signing_key_pair();
  const std::string signature = sign_detached(kBody, keys.secret_key);
  EXPECT_FALSE(verify_detached(kBody, signature.substr(0, 63), keys.public_key));
  EXPECT_FALSE(verify_detached(kBody, signature, keys.public_key.substr(0, 31)));
  EXPECT_FALSE(verify_detached(kBody, "", ""));
  EXPECT_THROW(sign_detached(kBody, "short"), std::invalid_argument);
}

TEST(SigningTest, base64_round_trips_and_refuses_what_is_not_base64) {
  for (const std::string& bytes : {std::string(), std::string("a"), std::string("ab"),
                                   std::string("abc"), std::string("\0\xff\x10", 3)}) {
    const auto decoded = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(base64_encode("Maillon"), "TWFpbGxvbg==");
  EXPECT_FALSE(base64_decode("TWFp bGxvbg==").has_value());
  EXPECT_FALSE(base64_decode("TWFpbGxvbg=").has_value());
  EXPECT_FALSE(base64_decode("TWFp_GxvbA==").has_value());
}

TEST(SigningTest, the_header_carries_the_scheme_and_the_signature) {
  const SigningKeyPair keys = generate_signing_key_pair();
  const std::string header = signature_header(kBody, keys.secret_key);
  EXPECT_EQ(header.rfind("ed25519=", 0), 0u);
  const auto signature = signature_from_header(header);
  ASSERT_TRUE(signature.has_value());
  EXPECT_TRUE(verify_detached(kBody, *signature, keys.public_key));
  EXPECT_FALSE(signature_from_header("rsa=" + header.substr(8)).has_value());
  EXPECT_FALSE(signature_from_header("ed25519=TWFpbGxvbg==").has_value());
  EXPECT_FALSE(signature_from_header("").has_value());
}

}  // namespace
}  // namespace maillon
