#include "common/web/auth.h"

#include <sodium.h>

#include <cstdlib>
#include <iostream>

#include "common/auth/api_token.h"

namespace chime::web {
namespace {

std::array<unsigned char, 32> Digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return out;
}

}  // namespace

BearerAuth::BearerAuth(std::string_view bootstrap_secret)
    : BearerAuth(bootstrap_secret, nullptr, SystemClock::Instance()) {}

BearerAuth::BearerAuth(std::string_view bootstrap_secret, auth::TokenDirectory* tokens,
                       const Clock& clock) {
  if (sodium_init() < 0) {
    std::cerr << "chime: libsodium failed to initialise\n";
    std::abort();
  }
  if (!bootstrap_secret.empty()) bootstrap_digest_ = Digest(bootstrap_secret);
  if (tokens != nullptr) tokens_.emplace(*tokens, clock);
}

Result<auth::Principal> BearerAuth::Authenticate(const std::optional<std::string>& authorization) const {
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
  // The bootstrap secret first, in constant time whatever was presented.
  if (bootstrap_digest_) {
    const auto presented = Digest(value);
    if (sodium_memcmp(presented.data(), bootstrap_digest_->data(), presented.size()) == 0) {
      return auth::BootstrapPrincipal();
    }
  }
  if (tokens_ && value.starts_with(auth::kTokenPrefix)) {
    auto token = auth::ApiToken::Parse(value);
    if (token) return tokens_->CheckBearer(*token);
  }
  return Fail(ErrorCode::kUnauthenticated, "wrong bearer token");
}

Result<auth::Principal> BearerAuth::Check(const std::optional<std::string>& authorization,
                                          auth::Scope need) const {
  auto who = Authenticate(authorization);
  if (!who) return who;
  if (auto ok = auth::Authorize(*who, need, "this route"); !ok) return std::unexpected(ok.error());
  return who;
}

}  // namespace chime::web
