// What the kinds that call HTTP endpoints share: which secret references a
// kinds file permits, and how a request is authenticated for an endpoint.
#pragma once

#include <chrono>

#include "common/base/error.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {

// Lets `policy` resolve `reference` (env:NAME, or exactly the file of
// file:/path). InvalidArgument for a malformed reference.
[[nodiscard]] Result<void> PermitSecretRef(http::SecretRefPolicy& policy, std::string_view reference);

// The secret references a kinds file names, and nothing else: every
// env:NAME and file:/path of an endpoint.
http::SecretRefPolicy SecretPolicyFor(const AppConfig& config);

// Resolves the endpoint's secret and adds its authentication to `request`
// (whose body must be final): Standard Webhooks signature headers, a Bearer
// token or an x-cron-secret header. Errors name the reference, never the
// value. Shared by the kinds that call configured endpoints.
[[nodiscard]] Result<void> AuthorizeRequest(http::HttpRequest& request, const Endpoint& endpoint,
                                            const http::SecretResolver& secrets,
                                            std::chrono::system_clock::time_point now);

}  // namespace chime::worker::kinds
