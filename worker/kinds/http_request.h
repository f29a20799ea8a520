// http_request: the seeds' own pattern - call an endpoint on a schedule -
// as a job kind (jobctl schedule import-vercel / import-cloud-scheduler make
// schedules of it). Thread-safe: immutable after construction, one instance
// for every slot (its HTTP client keeps connections alive per slot).
//
// The payload is common/payload/http_request_payload.h's, parsed by the same
// function that refused bad ones at enqueue. The endpoint's answer is the
// run's result (http_response.h): a JSON body's errors, skipped, success and
// status decide the outcome, and the parsed body is the summary's
// "response".
//
// Every call carries headers that let the endpoint be idempotent, the same on
// every attempt of one job except Chime-Attempt:
//   Idempotency-Key:     chime-job-<job id>
//   Chime-Job-Id:        <job id>
//   Chime-Attempt:       <attempt, from 1>
//   Chime-Schedule:      <schedule name>       when a schedule fired it
//   Chime-Scheduled-For: <tick, RFC 3339 UTC>  when a schedule fired it
//   User-Agent:          chime/<version>
// With standard-webhooks auth, webhook-id is the Idempotency-Key too, so a
// retry is the same message (the spec's rule); its timestamp and signature
// are fresh.
//
// The secret is a reference, resolved at call time under the worker's kinds
// file: http_request.secrets lists the references payloads may use and, for
// each, the origins it may be sent to. A reference sent elsewhere is refused
// before connecting; a redirect to another origin drops every credential
// header. The target's addresses are checked against the worker's address
// policy when connecting.
//
// Failures: an unexpected status, a timeout or a network error is retried as
// the payload's retryOn says (default: 5xx, 408, 429, timeouts, network); a
// refused address, a bad payload or secret fails permanently. A dry run
// (the job's, or the payload's dryRun) checks the payload and the secret
// and reports the request it would make, without sending it.
#pragma once

#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "worker/handler.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {

class HttpRequestKind final : public Handler {
 public:
  // Time granted beyond the payload's timeoutMs when the job has no timeout
  // of its own: resolving the secret, connecting, redirects.
  static constexpr std::chrono::milliseconds kTimeoutMargin{60'000};

  // InvalidArgument when the kinds file's http.allow/deny or
  // http_request.secrets entries are malformed.
  [[nodiscard]] static Result<std::unique_ptr<HttpRequestKind>> Create(
      const AppConfig& config, Clock& clock = SystemClock::Instance());

  std::string_view Kind() const override { return "http_request"; }
  HandlerResult Run(JobContext& ctx) override;
  // "POST https://app.example.com/api/cron" (user:password@ redacted).
  std::string Describe(const nlohmann::json& payload) const override;
  // The payload's timeoutMs (default 5 min) plus kTimeoutMargin.
  std::optional<std::chrono::milliseconds> Timeout(const nlohmann::json& payload) const override;

 private:
  HttpRequestKind(http::HttpClient client, http::SecretResolver secrets, std::vector<SecretGrant> grants,
                  Clock& clock)
      : client_(std::move(client)), secrets_(std::move(secrets)), grants_(std::move(grants)), clock_(clock) {}

  // The grant of `ref`, or FailedPrecondition when the kinds file does not
  // let it go to `url`'s origin.
  [[nodiscard]] Result<void> CheckGrant(const std::string& ref, const std::string& url) const;

  const http::HttpClient client_;
  const http::SecretResolver secrets_;
  const std::vector<SecretGrant> grants_;
  Clock& clock_;
};

// Idempotency-Key (and a standard-webhooks call's webhook-id): this prefix
// and the job id, the same on every attempt of the job.
inline constexpr const char* kIdempotencyKeyPrefix = "chime-job-";

}  // namespace chime::worker::kinds
