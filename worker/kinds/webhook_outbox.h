// The webhook outbox (chime.webhook_outbox, migration 0009): webhooks written
// in the same transaction as the change they announce, then delivered at
// least once, each with the same Standard Webhooks id on every attempt.
//
// Writers (reconcile_exam_capacity) call db::OutboxStore::OutboxInsertTx
// inside their own transaction, together with JobStore::JobInsertTx of
// DeliveryJob, the deliver_webhooks job that retries whatever the writer
// could not deliver itself. Both the writer and that job deliver through
// OutboxDeliver: it takes a delivery claim on each due row (two deliverers
// never send one row at the same time; a deliverer that dies leaves the row
// to be claimed again when the claim ends: the row's not_before, moved past the request's timeout), sends it, and records the outcome. A
// sweep (deliver_webhooks {"sweep": true}) finds the rows no job will retry
// any more with db::OutboxStore::OutboxListDue and delivers them through
// OutboxDeliver too, and cleanup_old_jobs deletes old delivered rows with
// db::OutboxStore::OutboxPrune. The table's SQL is all in
// common/db/outbox_store.h; this file holds what the rows mean to a worker.
//
// A row names its destination (a webhook target, migration 0016); the URL,
// auth style and secret come from the delivering worker's kinds file, never
// from the row, since whoever may insert rows (chime_worker) must not choose
// where a secret goes.
//
// Free functions and WebhookSender are thread-compatible: a sender belongs
// to one run.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"
#include "common/db/outbox_store.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {

inline constexpr std::string_view kDeliverWebhooksKind = "deliver_webhooks";

// "standard-webhooks" | "bearer" | "x-cron-secret" | "none", as in the kinds
// file and the outbox's auth column.
std::string_view AuthStyleName(AuthStyle auth);
std::optional<AuthStyle> ParseAuthStyle(std::string_view name);

// Webhook targets by name: what a row's target means to this worker.
using WebhookTargets = std::map<std::string, Endpoint, std::less<>>;
// capacity_webhook (when set) and every webhook_targets entry.
WebhookTargets WebhookTargetsOf(const AppConfig& config);

// The table's side of a webhook target: its name and the timeout that
// sizes a deliverer's claim.
db::OutboxTarget OutboxTargetOf(std::string_view target, const Endpoint& endpoint);

// What DeliveryJob puts on the deliver_webhooks job.
struct DeliveryJobSpec {
  std::string queue = "default";
  int64_t parent_id = 0;  // The writer: jobctl show lists the job under it.
  db::Invocation invocation = db::Invocation::kManual;
  std::chrono::milliseconds delay{std::chrono::seconds(30)};  // Gives the writer time to deliver.
  int max_attempts = 20;  // With the worker's retry backoff (1 s doubling to 1 h): ~9 hours.
};

// The deliver_webhooks job for the rows `outbox_ids` (payload
// {"outboxIds": [...]}), for the writer to enqueue with JobInsertTx in the
// transaction that wrote the rows, so the job exists exactly when they do.
db::EnqueueParams DeliveryJob(const DeliveryJobSpec& spec, std::span<const int64_t> outbox_ids);

// Authenticates and sends outbox rows to the targets it knows. Resolves
// each secret reference once per sender and keeps the values for that
// sender's life only.
class WebhookSender {
 public:
  WebhookSender(const http::HttpClient& client, const http::SecretResolver* secrets,
                const WebhookTargets& targets, const Clock& clock)
      : client_(&client), secrets_(secrets), targets_(&targets), clock_(&clock) {}

  // Resolves `secret_ref` now (a writer calls this before changing anything,
  // so that a bad reference fails its run with nothing changed). Errors name
  // the reference, never the value.
  [[nodiscard]] Result<void> Prepare(const Endpoint& endpoint);

  // One POST of `row` to its target: webhook-id is row.webhook_id on every
  // attempt, with a fresh timestamp and signature. Any answer is a response
  // (see IsSuccess); errors are the target's (FailedPrecondition: not in
  // this worker's kinds file; nothing is sent), the secret's or the
  // client's.
  [[nodiscard]] Result<http::HttpResponse> Send(const db::OutboxRow& row, std::stop_token stop);

 private:
  [[nodiscard]] Result<const http::Secret*> SecretFor(const Endpoint& endpoint);

  const http::HttpClient* client_;
  const http::SecretResolver* secrets_;  // May be null when every endpoint is auth: none.
  const WebhookTargets* targets_;
  const Clock* clock_;
  std::map<std::string, http::Secret> resolved_;  // By reference.
};

// Only a 2xx answer delivers a webhook.
bool IsSuccess(const http::HttpResponse& response);
// "the webhook answered HTTP 500", or the error.
std::string DeliveryError(const Result<http::HttpResponse>& sent);

// The outcome of one OutboxDeliver call.
struct OutboxDelivery {
  std::map<int64_t, std::string> failed;  // Row id -> the error of this attempt.
  std::vector<int64_t> delivered;         // By this call.
  int64_t already_delivered = 0;          // Before this call.
  int64_t busy = 0;                       // Claimed by another deliverer, or not due yet.
  int64_t skipped = 0;                    // Left for later after a timeout (see below).
  std::vector<int64_t> missing;           // No such row: never pending.

  int64_t pending() const { return static_cast<int64_t>(failed.size()) + busy + skipped; }
};

struct OutboxDeliverOptions {
  // After a request times out, the rest are left for the delivery job rather
  // than each waiting out its own timeout against a receiver that hangs.
  bool stop_after_timeout = true;
};

// Delivers the undelivered rows among `ids`, one attempt each, in id order.
// A database error ends the call (rows claimed and not yet marked are
// retried when their delivery claim ends); per-row HTTP failures are in the result.
[[nodiscard]] Result<OutboxDelivery> OutboxDeliver(db::Connection& conn, WebhookSender& sender,
                                                   std::span<const int64_t> ids,
                                                   std::stop_token stop, spdlog::logger& log,
                                                   OutboxDeliverOptions options = {});

}  // namespace chime::worker::kinds
