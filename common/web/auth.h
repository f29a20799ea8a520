// Bearer-token authentication for the HTTP API: the token must equal the
// admin secret (CHIME_ADMIN_SECRET, the one jobctl signs with). The check
// compares SHA-256 digests of both with a constant-time comparison, so
// neither the content nor the length of the secret leaks through timing.
// The token is never logged or echoed. Thread-safe (immutable).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace chime::web {

class BearerAuth {
 public:
  // `secret` must not be empty (callers load it through wire::AdminSecret,
  // which also enforces a minimum length).
  explicit BearerAuth(std::string_view secret);

  // Checks an Authorization header value. Unauthenticated with a message
  // safe to return to the client: "missing bearer token" (absent, or not
  // the Bearer scheme) or "wrong bearer token".
  [[nodiscard]] Result<void> Check(const std::optional<std::string>& authorization) const;

 private:
  std::array<unsigned char, 32> digest_{};
};

}  // namespace chime::web
