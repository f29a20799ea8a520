// Bearer-token authentication for the HTTP API. A presented token is either
// a named token (`chime_<name>_<secret>`, checked against the SHA-256 the
// cluster stores for it, with its scope) or the bootstrap admin secret
// (CHIME_ADMIN_SECRET, scope admin), compared as SHA-256 digests in
// constant time so neither the content nor the length of the secret leaks
// through timing. Tokens are never logged or echoed. Thread-safe when the
// token directory is.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/auth/scope.h"
#include "common/auth/token_authenticator.h"
#include "common/base/clock.h"
#include "common/base/error.h"

namespace chime::web {

class BearerAuth {
 public:
  // The bootstrap secret only (may be empty: then no bootstrap).
  explicit BearerAuth(std::string_view bootstrap_secret);
  // The bootstrap secret (may be empty) and named tokens from `tokens`
  // (may be null); both must outlive this.
  BearerAuth(std::string_view bootstrap_secret, auth::TokenDirectory* tokens,
             const Clock& clock = SystemClock::Instance());

  // Who the Authorization header value speaks for. Unauthenticated with a
  // message safe to return to the client: "missing bearer token" (absent,
  // or not the Bearer scheme), "wrong bearer token", "token 'ci' was
  // revoked"; Unavailable when the token store cannot be read.
  [[nodiscard]] Result<auth::Principal> Authenticate(const std::optional<std::string>& authorization) const;

  // Authenticate, then PermissionDenied unless the principal covers `need`
  // ("token 'dash' has scope read; this route needs operate"). Without a
  // scope it asks for admin: what the one admin secret could do before
  // scopes, so older callers fail safe.
  [[nodiscard]] Result<auth::Principal> Check(const std::optional<std::string>& authorization,
                                              auth::Scope need = auth::Scope::kAdmin) const;

 private:
  std::optional<std::array<unsigned char, 32>> bootstrap_digest_;
  std::optional<auth::TokenAuthenticator> tokens_;
};

}  // namespace chime::web
