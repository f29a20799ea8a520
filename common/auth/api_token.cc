#include "common/auth/api_token.h"

#include <sodium.h>

#include <cstdlib>
#include <iostream>

namespace chime::auth {
namespace {

constexpr size_t kEncodedSecretChars = 43;  // ceil(32 * 4 / 3), no padding.
constexpr std::string_view kSeedLabel = "chime token signing key v1";

void EnsureSodium() {
  // Thread-safe and idempotent; fails only without a usable random source.
  if (sodium_init() < 0) {
    std::cerr << "chime: libsodium failed to initialise\n";
    std::abort();
  }
}

struct KeyPair {
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key{};
  ~KeyPair() { sodium_memzero(secret_key.data(), secret_key.size()); }
};

void DeriveKeyPair(const std::array<unsigned char, kTokenSecretBytes>& secret, KeyPair& out) {
  std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
  crypto_auth_hmacsha256(seed.data(), reinterpret_cast<const unsigned char*>(kSeedLabel.data()),
                         kSeedLabel.size(), secret.data());
  crypto_sign_seed_keypair(out.public_key.data(), out.secret_key.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
}

Error Malformed(std::string why) {
  return Error{ErrorCode::kInvalidArgument, "token: " + std::move(why) +
                                                " (expected chime_<name>_<43 characters>)"};
}

}  // namespace

static_assert(crypto_auth_hmacsha256_KEYBYTES == kTokenSecretBytes);
static_assert(crypto_sign_BYTES == kTokenSignatureBytes);
static_assert(crypto_sign_PUBLICKEYBYTES == kPublicKeyBytes);

bool ValidTokenName(std::string_view name) {
  if (name.empty() || name.size() > kTokenNameMaxBytes || name == "bootstrap") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<void> CheckTokenName(std::string_view name) {
  if (ValidTokenName(name)) return {};
  if (name == "bootstrap") {
    return Fail(ErrorCode::kInvalidArgument,
                "token name: 'bootstrap' is the admin secret's name; choose another");
  }
  std::string shown(name.substr(0, kTokenNameMaxBytes));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return Fail(ErrorCode::kInvalidArgument,
              "token name: '" + shown + "' is not 1-64 characters of A-Z a-z 0-9 _ . -");
}

ApiToken::ApiToken(std::string name, const unsigned char* secret) : name_(std::move(name)) {
  std::copy(secret, secret + kTokenSecretBytes, secret_.begin());
}

ApiToken::ApiToken(const ApiToken& other) : name_(other.name_), secret_(other.secret_) {}

ApiToken& ApiToken::operator=(const ApiToken& other) {
  name_ = other.name_;
  secret_ = other.secret_;
  return *this;
}

ApiToken::~ApiToken() { sodium_memzero(secret_.data(), secret_.size()); }

Result<ApiToken> ApiToken::Generate(std::string_view name) {
  if (auto ok = CheckTokenName(name); !ok) return std::unexpected(ok.error());
  EnsureSodium();
  std::array<unsigned char, kTokenSecretBytes> secret{};
  randombytes_buf(secret.data(), secret.size());
  ApiToken token(std::string(name), secret.data());
  sodium_memzero(secret.data(), secret.size());
  return token;
}

Result<ApiToken> ApiToken::Parse(std::string_view text) {
  EnsureSodium();
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (!text.starts_with(kTokenPrefix)) return std::unexpected(Malformed("does not start with chime_"));
  text.remove_prefix(kTokenPrefix.size());
  // The secret has a fixed length and may itself hold '_', so it is cut
  // from the end; the name is what lies between.
  if (text.size() < kEncodedSecretChars + 2 || text[text.size() - kEncodedSecretChars - 1] != '_') {
    return std::unexpected(Malformed("wrong length"));
  }
  const std::string_view encoded = text.substr(text.size() - kEncodedSecretChars);
  const std::string_view name = text.substr(0, text.size() - kEncodedSecretChars - 1);
  if (!ValidTokenName(name)) return std::unexpected(Malformed("bad name"));
  std::array<unsigned char, kTokenSecretBytes> secret{};
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(secret.data(), secret.size(), encoded.data(), encoded.size(), nullptr,
                        &decoded, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      decoded != kTokenSecretBytes || end != encoded.data() + encoded.size()) {
    sodium_memzero(secret.data(), secret.size());
    return std::unexpected(Malformed("the secret is not 32 bytes of base64url"));
  }
  ApiToken token(std::string(name), secret.data());
  sodium_memzero(secret.data(), secret.size());
  return token;
}

std::string ApiToken::text() const {
  std::string encoded(sodium_base64_ENCODED_LEN(kTokenSecretBytes,
                                                sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                      '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), secret_.data(), secret_.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  encoded.resize(kEncodedSecretChars);
  return std::string(kTokenPrefix) + name_ + "_" + encoded;
}

Digest ApiToken::SecretSha256() const { return SecretDigest(secret_.data(), secret_.size()); }

TokenVerifiers ApiToken::Verifiers() const {
  TokenVerifiers out;
  out.secret_sha256 = SecretSha256();
  KeyPair keys;
  DeriveKeyPair(secret_, keys);
  out.signing_key = keys.public_key;
  return out;
}

std::string ApiToken::Sign(std::string_view message) const {
  KeyPair keys;
  DeriveKeyPair(secret_, keys);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       keys.secret_key.data());
  return signature;
}

Digest SecretDigest(const unsigned char* secret, size_t size) {
  Digest out{};
  crypto_hash_sha256(out.data(), secret, size);
  return out;
}

bool VerifySignature(const PublicKey& key, std::string_view message, std::string_view signature) {
  EnsureSodium();
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

bool SameDigest(const Digest& a, const Digest& b) {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string ToHex(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

Result<void> FromHex(std::string_view hex, unsigned char* out, size_t size) {
  if (hex.size() != size * 2) {
    return Fail(ErrorCode::kInvalidArgument,
                "hex: " + std::to_string(hex.size()) + " digits, expected " + std::to_string(size * 2));
  }
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < size; ++i) {
    const int hi = digit(hex[2 * i]);
    const int lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Fail(ErrorCode::kInvalidArgument, "hex: not a hex digit");
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return {};
}

}  // namespace chime::auth
