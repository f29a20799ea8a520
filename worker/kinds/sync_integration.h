// sync_integration: one user's sync with one provider, through the HTTP
// endpoint the kinds file configures for that provider (the application does
// the provider-specific work; Chime schedules, authenticates, retries and
// records). Thread-safe (immutable after construction; one instance serves
// every slot).
//
// Payload: {userId: integer, provider: string, jobType?: scheduled-sync |
// manual-sync | initial-backfill (default scheduled-sync), timeframeDays?:
// 1-365 (default 1)}; process_all_users writes exactly this. Anything else
// fails permanently, naming the key.
//
// The request: POST <endpoint.url>, Content-Type application/json, body
//   {"userId": 42, "provider": "github", "jobType": "scheduled-sync",
//    "timeframeDays": 1, "since": "2026-01-30T02:00:00Z"}
// where "since" is the start of the lookback window (now - timeframeDays),
// authenticated as the endpoint's auth says with the secret its reference
// names. The secret is resolved for each call and is never logged, stored or
// put in a result.
//
// Outcomes:
//   2xx       last_synced_at = now(), needs_reauth = false, items_synced = the
//             response's count (see SyncedItems); success.
//   401, 403  the user's grant is bad: needs_reauth = true (process_all_users
//             skips the integration until the application clears it) and the
//             job fails permanently.
//   408, 429, 5xx, timeouts, connection errors
//             retryable failure; nothing is written.
//   other     permanent failure; nothing is written.
// An integration that is gone or inactive, or whose user is inactive, by the
// time the job runs is skipped (success, status "skipped", no call). One that
// needs re-authentication is still called: a manual sync after the user
// reconnected is how the flag clears. A provider missing from the kinds file
// or without an endpoint fails permanently, naming it.
//
// Result: {userId, provider, status, items, durationMs}, plus httpStatus when
// a response came back. status: synced | skipped | dry_run | failed. A dry
// run reads the integration, makes no call and writes nothing; its result
// says which URL would have been called.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "worker/handler.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/outbound.h"

namespace chime::worker::kinds {

// The item count a 2xx response body reports: its top-level "items", else
// "itemsSynced" (the names the seeds' sync endpoints use), when that is a
// non-negative integer; nullopt otherwise (items_synced keeps its value).
std::optional<int64_t> SyncedItems(std::string_view body);

class SyncIntegration final : public Handler {
 public:
  explicit SyncIntegration(const AppConfig& config, Clock& clock = SystemClock::Instance());

  std::string_view Kind() const override { return "sync_integration"; }
  HandlerResult Run(JobContext& ctx) override;

 private:
  const AppConfig config_;
  Clock& clock_;
  const Result<http::HttpClient> client_;  // An error when http.allow/deny are invalid.
  const http::SecretResolver secrets_;
  const std::string lookup_sql_;
  const std::string synced_sql_;
  const std::string reauth_sql_;
};

}  // namespace chime::worker::kinds
