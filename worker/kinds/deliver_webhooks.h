// deliver_webhooks: delivers webhook outbox rows, one attempt per
// undelivered row per run, in one of two modes (exactly one per payload):
//
// {"outboxIds": [id, ...]}
//   The rows named. Its writer (reconcile_exam_capacity) enqueues it in the
//   transaction that wrote the rows, so a webhook whose first delivery
//   failed, or whose writer died before trying, is retried; see
//   webhook_outbox.h.
// {"sweep": true, "limit": 1..100000 = 1000}
//   Every undelivered row that is due (its delivery claim or not_before has passed),
//   oldest first, at most `limit` of them: what a job that ran out of
//   attempts left behind, without anyone running `jobctl retry`. Meant for a
//   schedule (deploy/schedules.example.yaml: every 10 minutes). A row under
//   a live delivery claim is left to the deliverer that holds it; rows past the limit
//   wait for the next sweep.
//
// A dry run (either mode) sends and changes nothing: {"delivered": 0,
// "candidates": rows it would try, "dryRun": true} (+ "swept").
//
// Both claim, send and record each row through OutboxDeliver, so a row is
// never sent by two deliverers at once and keeps its webhook id.
//
// Result: {"delivered", "alreadyDelivered", "pending"}: delivered by this
// run, delivered before it (by the writer or an earlier attempt), still
// undelivered; a sweep adds {"swept": rows it found due}. With rows whose
// attempt failed (or, naming ids, rows not delivered for any reason) the run
// is a retryable failure, one error per row, so the worker's retry backoff
// (1 s doubling to 1 h) paces the next attempt until the job runs out of
// attempts; the rows then stay in chime.webhook_outbox until `jobctl retry
// <job>` or the next sweep. A sweep does not fail for a row another
// deliverer claimed between its look-up and its claim. A bad payload fails
// permanently, naming the field. Stateless, so thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "worker/handler.h"
#include "worker/kinds/webhook_outbox.h"

namespace chime::worker::kinds {

inline constexpr size_t kMaxOutboxIdsPerJob = 100'000;
inline constexpr int64_t kDefaultSweepLimit = 1000;
inline constexpr int64_t kMaxSweepLimit = 100'000;

// A parsed payload: the rows named, or a sweep.
struct DeliverWebhooksPayload {
  std::vector<int64_t> outbox_ids;  // Empty for a sweep.
  bool sweep = false;
  int64_t limit = kDefaultSweepLimit;  // A sweep's bound on rows.
};

// InvalidArgument naming the field.
[[nodiscard]] Result<DeliverWebhooksPayload> ParseDeliverWebhooksPayload(const nlohmann::json& payload);

class DeliverWebhooks final : public Handler {
 public:
  // `secrets` may be null only if no target needs a secret. A row naming a
  // target `targets` lacks is not sent; its attempt fails naming it.
  DeliverWebhooks(std::shared_ptr<const http::HttpClient> http,
                  std::shared_ptr<const http::SecretResolver> secrets, WebhookTargets targets,
                  const Clock& clock = SystemClock::Instance())
      : http_(std::move(http)), secrets_(std::move(secrets)), targets_(std::move(targets)), clock_(clock) {}

  std::string_view Kind() const override { return kDeliverWebhooksKind; }
  HandlerResult Run(JobContext& ctx) override;

 private:
  const std::shared_ptr<const http::HttpClient> http_;
  const std::shared_ptr<const http::SecretResolver> secrets_;
  const WebhookTargets targets_;
  const Clock& clock_;
};

}  // namespace chime::worker::kinds
