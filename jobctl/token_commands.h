// `jobctl token create|list|revoke` and `jobctl whoami`: named credentials
// with scopes (common/auth). create makes the token here, sends only its
// SHA-256 digest and Ed25519 public key (to the scheduler, or straight to
// the database with CHIME_DATABASE_URL, which needs no token at all) and
// prints the token once. Thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "common/auth/scope.h"
#include "common/base/error.h"
#include "common/db/auth_store.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

struct TokenCreateOptions {
  std::string name;
  std::string scope;                   // read | operate | admin.
  std::optional<std::string> expires;  // A duration (30d); unset: never.
  bool json = false;
};

struct TokenListOptions {
  bool json = false;
};

struct TokenRevokeOptions {
  std::string name;
  bool json = false;
};

struct WhoamiOptions {
  bool json = false;
};

// Prints the token alone on one line (with --json: an object holding it);
// a note that it will not be shown again goes to ctx.err when set.
[[nodiscard]] Result<void> RunTokenCreate(CommandContext& ctx, const TokenCreateOptions& o);
// One row per token: name, scope, state (active, expired, revoked),
// created, created by, last used, expires.
[[nodiscard]] Result<void> RunTokenList(CommandContext& ctx, const TokenListOptions& o);
[[nodiscard]] Result<void> RunTokenRevoke(CommandContext& ctx, const TokenRevokeOptions& o);
[[nodiscard]] Result<void> RunWhoami(CommandContext& ctx, const WhoamiOptions& o);

// "active", "expired" or "revoked" at `now`.
std::string TokenState(const db::ApiTokenRow& row, TimePoint now);

}  // namespace chime::jobctl
