// deliver_webhooks: delivers the webhook outbox rows its payload names
// ({"outboxIds": [id, ...]}), one attempt per undelivered row per run. Its
// writer (reconcile_exam_capacity) enqueues it in the transaction that wrote
// the rows, so a webhook whose first delivery failed, or whose writer died
// before trying, is retried; see webhook_outbox.h.
//
// Result: {"delivered", "alreadyDelivered", "pending"}: delivered by this
// run, delivered before it (by the writer or an earlier attempt), still
// undelivered. With pending > 0 the run is a retryable failure, one error
// per row, so the worker's retry backoff (1 s doubling to 1 h) paces the next
// attempt until the job runs out of attempts; the rows then stay in
// chime.webhook_outbox and `jobctl retry <job>` resumes. A bad payload fails
// permanently. Stateless, so thread-safe.
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

// InvalidArgument naming the field.
[[nodiscard]] Result<std::vector<int64_t>> ParseDeliverWebhooksPayload(const nlohmann::json& payload);

class DeliverWebhooks final : public Handler {
 public:
  // `secrets` may be null only if no row needs a secret.
  DeliverWebhooks(std::shared_ptr<const http::HttpClient> http,
                  std::shared_ptr<const http::SecretResolver> secrets,
                  const Clock& clock = SystemClock::Instance())
      : http_(std::move(http)), secrets_(std::move(secrets)), clock_(clock) {}

  std::string_view Kind() const override { return kDeliverWebhooksKind; }
  HandlerResult Run(JobContext& ctx) override;

 private:
  const std::shared_ptr<const http::HttpClient> http_;
  const std::shared_ptr<const http::SecretResolver> secrets_;
  const Clock& clock_;
};

}  // namespace chime::worker::kinds
