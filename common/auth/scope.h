// The scopes a credential can have, each covering the ones below it:
//   read     the API's GETs and the dashboard; jobctl list, show, stats, ...
//   operate  read, and acting on what exists: trigger, retry, cancel, pause/resume
//   admin    operate, and changing what runs: enqueue, schedules, backfill, tokens
// The table of which request needs which scope is request_scopes.h.
// Thread-safe (values and pure functions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "common/base/text_format.h"

namespace chime::auth {

enum class Scope { kRead = 0, kOperate = 1, kAdmin = 2 };

// "read", "operate", "admin".
std::string_view ScopeName(Scope scope);
// The inverse of ScopeName; InvalidArgument "scope: 'x' is not read, operate or admin".
[[nodiscard]] Result<Scope> ParseScope(std::string_view text);
// True when a credential with scope `have` may do what needs `need`.
constexpr bool Covers(Scope have, Scope need) { return static_cast<int>(have) >= static_cast<int>(need); }

// Who a verified request or bearer token speaks for.
struct Principal {
  std::string name;        // The token's name; kBootstrapName for the admin secret.
  Scope scope = Scope::kRead;
  bool bootstrap = false;  // The bootstrap admin secret (CHIME_ADMIN_SECRET).
  std::optional<TimePoint> expires_at;
};

// The name the bootstrap admin secret goes by; no named token may take it.
inline constexpr std::string_view kBootstrapName = "bootstrap";

// A principal for the bootstrap admin secret.
Principal BootstrapPrincipal();

// PermissionDenied unless `who` covers `need`: "token 'ci' has scope
// operate; enqueue needs admin" (`what` names the request or route).
[[nodiscard]] Result<void> Authorize(const Principal& who, Scope need, std::string_view what);

}  // namespace chime::auth
