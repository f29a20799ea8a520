// http_request: the seeds' own pattern - call an endpoint on a schedule -
// as a job kind (jobctl schedule import-vercel makes schedules of it).
// Thread-safe: immutable after construction, one instance for every slot.
//
// Payload:
//   {"url": "https://app.example.com/api/cron/sync",   required, http(s)
//    "method": "POST",                                  default GET
//    "headers": {"Content-Type": "text/plain"},         optional, strings
//    "body": "text" | {...} | [...],                    JSON is sent as JSON
//    "timeoutMs": 10000,                                1..300000, default 30000
//    "expectStatus": [200, 204],                        default: any 2xx
//    "followRedirects": false,                          default false
//    "auth": {"type": "bearer", "secret": "env:CRON_SECRET"}}
// auth.type is standard-webhooks (webhook-id/-timestamp/-signature over the
// body), bearer (Authorization: Bearer), x-cron-secret, or none (default).
// The secret is a reference, resolved at call time under the worker's
// kinds file (http_request.secrets lists the references payloads may use),
// never a value: a payload carrying Authorization, x-cron-secret or
// webhook-* headers itself is refused.
//
// The target's addresses are checked against the worker's address policy
// when connecting (loopback, private, link-local and metadata denied unless
// the kinds file's http.allow opens them).
//
// Outcomes: an expected status succeeds; 408, 429, 5xx, timeouts and
// connection errors are retried with backoff; any other status, a refused
// address or a bad payload fails permanently. The result records {method,
// url (userinfo redacted), status, durationMs, bodyExcerpt (first 4 KiB),
// bodyBytes, bodyTruncated, remoteAddress, redirects, dryRun, invocation}.
// A dry run checks the payload and the secret reference and reports the
// request it would make, without sending it.
#pragma once

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "worker/handler.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {

class HttpRequestKind final : public Handler {
 public:
  // InvalidArgument when the kinds file's http.allow/deny or
  // http_request.secrets entries are malformed.
  [[nodiscard]] static Result<std::unique_ptr<HttpRequestKind>> Create(
      const AppConfig& config, Clock& clock = SystemClock::Instance());

  std::string_view Kind() const override { return "http_request"; }
  HandlerResult Run(JobContext& ctx) override;

 private:
  HttpRequestKind(http::HttpClient client, http::SecretResolver secrets, Clock& clock)
      : client_(std::move(client)), secrets_(std::move(secrets)), clock_(clock) {}

  const http::HttpClient client_;
  const http::SecretResolver secrets_;
  Clock& clock_;
};

}  // namespace chime::worker::kinds
