// The one table of what each request needs: every admin request over
// ZeroMQ (by its AdminRequest field) and every HTTP route the scheduler
// serves. A request type or route missing here is refused (admin requests)
// or stops the scheduler at start (routes); tests/common/auth/
// request_scopes_test.cc fails when a new AdminRequest field has no entry.
// Thread-safe (constant data).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "chime/v1/chime.pb.h"
#include "common/auth/scope.h"
#include "common/base/error.h"

namespace chime::auth {

struct AdminRequestScope {
  int field;              // The AdminRequest oneof field number (= its command case).
  std::string_view what;  // As jobctl spells the command, for errors: "schedule create".
  Scope scope;
};

struct HttpRouteScope {
  std::string_view method;   // "GET".
  std::string_view pattern;  // The route's pattern as registered: "/api/jobs/([^/]+)".
  std::optional<Scope> scope;  // nullopt: open (probes, metrics, the dashboard's static files).
};

// Every admin request, in field order.
std::span<const AdminRequestScope> AdminRequestScopes();
// Every route of the scheduler's HTTP server.
std::span<const HttpRouteScope> HttpRouteScopes();

// The entry for the request's command; PermissionDenied "admin request N has
// no scope; refused" when the table lacks it (never for a request this
// build knows: the test guards that), InvalidArgument when none is set.
[[nodiscard]] Result<AdminRequestScope> ScopeOf(const v1::AdminRequest& request);
// The entry for a route, or nullptr.
const HttpRouteScope* FindRouteScope(std::string_view method, std::string_view pattern);

}  // namespace chime::auth
