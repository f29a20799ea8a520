// The http_request job payload: what it may hold, parsed once in one place.
// Every entry point that accepts a payload (jobctl enqueue, schedule
// create/update, schedule files and `schedule lint`, the scheduler's admin
// API, the job store itself) refuses a bad one through ValidateJobPayload
// (job_payload.h), and the worker's http_request kind runs what this parser
// returns, so what is accepted is exactly what runs. Pure; thread-safe.
//
//   {"url": "https://app.example.com/api/cron/sync?interval=15min",  required
//    "method": "POST",                                  default GET
//    "headers": {"Content-Type": "text/plain"},         strings; no credentials
//    "body": "text" | {...} | [...],                    JSON is sent as JSON
//    "timeoutMs": 600000,                               1 ms .. 1 h, default 5 min
//    "expectStatus": [200, 204],                        default: any 2xx
//    "followRedirects": false,
//    "auth": {"type": "bearer" | "x-cron-secret" | "standard-webhooks" | "none",
//             "secret": "env:CRON_SECRET"}
//          | {"type": "header", "name": "x-cron-key", "secret": "env:NAME"},
//    "retryOn": ["5xx", 408, 429, "timeout", "network", "failureBody", "4xx"],
//    "response": {"errors": "/result/failures", "skipped": "/meta/skipped",
//                 "reason": "/meta/why", "success": "/ok", "status": "/state",
//                 "counts": "/data/summary"},               JSON pointers
//    "dryRun": false}                                   also "dry_run"
//
// A payload never carries a secret: auth.secret is a reference (env:NAME or
// file:/absolute/path), never a value; credential headers (Authorization,
// x-cron-secret, x-cron-key, Cookie, webhook-*, ...: credentials.h), URLs
// with user:password@ or a credential-like query parameter (token=, key=,
// ...), body fields named like secrets (password, apiKey, clientSecret, ...)
// and values shaped like one ("Bearer ...", "whsec_...") are refused. Chime's
// own headers (Idempotency-Key, Chime-*, User-Agent) and framing headers
// (Host, Content-Length, ...) are refused too: Chime sets them.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/error.h"

namespace chime::payload {

inline constexpr std::string_view kHttpRequestKind = "http_request";
// The exchange's limit when the payload gives none, and the most it may give.
inline constexpr std::chrono::milliseconds kHttpDefaultTimeout{5 * 60'000};
inline constexpr std::chrono::milliseconds kHttpMaxTimeout{60 * 60'000};

enum class HttpAuthType {
  kNone,
  kBearer,            // Authorization: Bearer <secret> (Vercel's CRON_SECRET)
  kCronSecret,        // x-cron-secret: <secret> (004)
  kHeader,            // <name>: <secret>, e.g. x-cron-key (002)
  kStandardWebhooks,  // webhook-id / webhook-timestamp / webhook-signature
};
// "none", "bearer", "x-cron-secret", "header", "standard-webhooks".
std::string_view HttpAuthTypeName(HttpAuthType type);

struct HttpAuth {
  HttpAuthType type = HttpAuthType::kNone;
  std::string header;      // kHeader only: the header's name.
  std::string secret_ref;  // env:NAME or file:/absolute/path; empty with kNone.
};

// Which failed attempts are retried (with the worker's backoff, up to the
// job's max_attempts). The default: 5xx, 408, 429, timeouts and network
// errors retry; other statuses and a failure body ({"success": false}) do
// not. A payload's retryOn list replaces the default as a whole.
struct RetryOn {
  bool server_errors = true;           // "5xx"
  bool client_errors = false;          // "4xx"
  std::vector<int> statuses{408, 429};  // Single statuses: 408, "429".
  bool timeout = true;                 // "timeout"
  bool network = true;                 // "network": DNS, connect, TLS, reset.
  bool failure_body = false;           // "failureBody"

  bool RetriesStatus(int status) const;
};

// Where an endpoint of another shape keeps the fields the seeds' endpoints
// put at the top level or under "data": JSON pointers (RFC 6901). Unset:
// the conventions (see worker/kinds/http_response.h).
struct ResponseMapping {
  std::optional<std::string> errors;   // An array of strings or {message}.
  std::optional<std::string> skipped;  // true: the run is skipped.
  std::optional<std::string> reason;   // The skip's reason.
  std::optional<std::string> success;  // false: the attempt failed.
  std::optional<std::string> status;   // "failed"/"error": failed; "partial": partial.
  std::optional<std::string> counts;   // An object of counters.
};

struct HttpRequestPayload {
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  // As given, in order.
  std::optional<std::string> body;  // The bytes to send; JSON bodies serialised.
  bool body_is_json = false;        // Then Content-Type: application/json unless given.
  std::chrono::milliseconds timeout = kHttpDefaultTimeout;
  std::vector<int> expect_status;  // Empty: any 2xx.
  bool follow_redirects = false;
  HttpAuth auth;
  RetryOn retry_on;
  ResponseMapping response;
  bool dry_run = false;  // The payload's own "dryRun"/"dry_run": true.
};

// InvalidArgument naming the field ("headers.x-cron-key: ...", "auth.secret:
// ...") for anything the comment above rules out, unknown keys included.
// Messages never quote a header value, a secret or a body.
[[nodiscard]] Result<HttpRequestPayload> ParseHttpRequestPayload(const nlohmann::json& payload);

}  // namespace chime::payload
