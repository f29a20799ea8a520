// Checks a presented named token, as a bearer header or as the key that
// signed an admin request, against what the cluster stores for it (a
// TokenDirectory: in the scheduler, PostgreSQL behind a short-lived cache).
// The secret or signature is checked before anything about the token's
// state is told, so a caller without the secret learns only "unknown or
// wrong". Thread-safe when the directory is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/auth/api_token.h"
#include "common/auth/scope.h"
#include "common/base/clock.h"
#include "common/base/error.h"

namespace chime::auth {

// A named token as the cluster stores it.
struct TokenRecord {
  std::string name;
  Scope scope = Scope::kRead;
  TokenVerifiers verifiers;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> revoked_at;
};

// Where tokens are looked up. Implementations are thread-safe.
class TokenDirectory {
 public:
  virtual ~TokenDirectory() = default;
  // The token named `name`, revoked and expired ones included; nullopt when
  // there is none. Unavailable when the store cannot be reached.
  [[nodiscard]] virtual Result<std::optional<TokenRecord>> TokenFind(std::string_view name) = 0;
  // A use of the token was accepted (for its last-used time). May record it
  // later or coarsely; never fails the request.
  virtual void TokenUsed(std::string_view name) = 0;
};

class TokenAuthenticator {
 public:
  // `directory` and `clock` must outlive this; expiry is judged on `clock`.
  TokenAuthenticator(TokenDirectory& directory, const Clock& clock)
      : directory_(directory), clock_(clock) {}

  // A bearer token. Unauthenticated ("unknown token or wrong secret",
  // "token 'ci' was revoked", "token 'ci' expired at ..."), Unavailable
  // when the directory cannot be read.
  [[nodiscard]] Result<Principal> CheckBearer(const ApiToken& token) const;

  // `signature` by token `name` over `message`. The same errors.
  [[nodiscard]] Result<Principal> CheckSignature(std::string_view name, std::string_view message,
                                                 std::string_view signature) const;

 private:
  // The principal of a token whose secret checked out, unless it is revoked
  // or expired.
  Result<Principal> Live(const TokenRecord& record) const;

  TokenDirectory& directory_;
  const Clock& clock_;
};

}  // namespace chime::auth
