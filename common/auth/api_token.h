// Named API tokens: `chime_<name>_<secret>`, where the secret is 32 random
// bytes in unpadded base64url (43 characters). From the secret derive
//   * its SHA-256, which a scheduler compares a presented bearer token with;
//   * an Ed25519 key pair (seed = HMAC-SHA256(secret, "chime token signing
//     key v1")): jobctl signs admin requests with the secret key, schedulers
//     verify with the public key.
// The database keeps only the digest and the public key (TokenVerifiers):
// neither lets a reader authenticate, and the secret has 256 bits, so the
// digest cannot be searched back either. The token is shown once, when made.
// Thread-safe (immutable values).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace chime::auth {

inline constexpr std::string_view kTokenPrefix = "chime_";
inline constexpr size_t kTokenSecretBytes = 32;
inline constexpr size_t kTokenNameMaxBytes = 64;
inline constexpr size_t kDigestBytes = 32;
inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kTokenSignatureBytes = 64;

using Digest = std::array<unsigned char, kDigestBytes>;
using PublicKey = std::array<unsigned char, kPublicKeyBytes>;

// 1-64 of A-Z a-z 0-9 _ . - (safe in logs, URLs and bearer headers), and
// not "bootstrap", the admin secret's name.
[[nodiscard]] bool ValidTokenName(std::string_view name);
// InvalidArgument naming the rule (and the name, which is never secret).
[[nodiscard]] Result<void> CheckTokenName(std::string_view name);

// What is stored for a token: enough to check it, never to be it.
struct TokenVerifiers {
  Digest secret_sha256{};
  PublicKey signing_key{};
};

// A token with its secret. Copying copies the secret; the secret is wiped
// when the object goes away. Never log text().
class ApiToken {
 public:
  // A new token with a fresh random secret. InvalidArgument for a bad name.
  [[nodiscard]] static Result<ApiToken> Generate(std::string_view name);
  // Reads `chime_<name>_<secret>` (surrounding whitespace ignored).
  // InvalidArgument that never quotes the text: it may be a secret.
  [[nodiscard]] static Result<ApiToken> Parse(std::string_view text);

  ApiToken(const ApiToken& other);
  ApiToken& operator=(const ApiToken& other);
  ~ApiToken();

  const std::string& name() const { return name_; }
  // The whole token, for the one time it is shown and for bearer headers.
  std::string text() const;
  TokenVerifiers Verifiers() const;
  // Verifiers().secret_sha256 alone (no key derivation): the bearer check.
  Digest SecretSha256() const;
  // An Ed25519 detached signature (kTokenSignatureBytes) of `message`.
  std::string Sign(std::string_view message) const;

 private:
  ApiToken(std::string name, const unsigned char* secret);

  std::string name_;
  std::array<unsigned char, kTokenSecretBytes> secret_{};
};

// SHA-256 of a token secret as stored (for tests and the bearer check).
Digest SecretDigest(const unsigned char* secret, size_t size);
// True when `signature` is `key`'s Ed25519 signature of `message`.
[[nodiscard]] bool VerifySignature(const PublicKey& key, std::string_view message,
                                   std::string_view signature);
// Constant-time equality of two digests.
[[nodiscard]] bool SameDigest(const Digest& a, const Digest& b);

// Lower-case hex, for the database and tests; FromHex the inverse
// (InvalidArgument for anything else, or the wrong length).
std::string ToHex(const unsigned char* data, size_t size);
template <size_t N>
std::string ToHex(const std::array<unsigned char, N>& bytes) { return ToHex(bytes.data(), N); }
[[nodiscard]] Result<void> FromHex(std::string_view hex, unsigned char* out, size_t size);

}  // namespace chime::auth
