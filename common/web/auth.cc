#include "common/web/auth.h"

#include <sodium.h>

#include <cstdlib>
#include <iostream>

namespace chime::web {
namespace {

std::array<unsigned char, 32> Digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return out;
}

}  // namespace

BearerAuth::BearerAuth(std::string_view secret) {
  if (sodium_init() < 0) {
    std::cerr << "chime: libsodium failed to initialise\n";
    std::abort();
  }
  if (secret.empty()) {
    std::cerr << "chime: BearerAuth needs a non-empty secret\n";
    std::abort();
  }
  digest_ = Digest(secret);
}

Result<void> BearerAuth::Check(const std::optional<std::string>& authorization) const {
  if (!authorization) return Fail(ErrorCode::kUnauthenticated, "missing bearer token");
  std::string_view value = *authorization;
  // The scheme is case-insensitive (RFC 7235); one or more spaces follow.
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size()) return Fail(ErrorCode::kUnauthenticated, "missing bearer token");
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = static_cast<char>(value[i] | 0x20);
    if (c != kScheme[i]) return Fail(ErrorCode::kUnauthenticated, "missing bearer token");
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return Fail(ErrorCode::kUnauthenticated, "missing bearer token");
  const auto presented = Digest(value);
  if (sodium_memcmp(presented.data(), digest_.data(), digest_.size()) != 0) {
    return Fail(ErrorCode::kUnauthenticated, "wrong bearer token");
  }
  return {};
}

}  // namespace chime::web
