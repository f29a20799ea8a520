#include "common/auth/scope.h"

namespace chime::auth {

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kRead: return "read";
    case Scope::kOperate: return "operate";
    case Scope::kAdmin: return "admin";
  }
  return "unknown";
}

Result<Scope> ParseScope(std::string_view text) {
  for (Scope s : {Scope::kRead, Scope::kOperate, Scope::kAdmin}) {
    if (text == ScopeName(s)) return s;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "scope: '" + OneLine(text, 32) + "' is not read, operate or admin");
}

Principal BootstrapPrincipal() {
  return Principal{.name = std::string(kBootstrapName), .scope = Scope::kAdmin, .bootstrap = true};
}

Result<void> Authorize(const Principal& who, Scope need, std::string_view what) {
  if (Covers(who.scope, need)) return {};
  return Fail(ErrorCode::kPermissionDenied,
              "token '" + who.name + "' has scope " + std::string(ScopeName(who.scope)) + "; " +
                  std::string(what) + " needs " + std::string(ScopeName(need)));
}

}  // namespace chime::auth
