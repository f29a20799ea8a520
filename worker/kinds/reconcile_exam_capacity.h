// reconcile_exam_capacity: the seed's capacity sync (000_edb3c7a58f658e25.txt).
// For the exams given by id, or for all active exams, counts the active
// bookings (the source of truth), compares them with each exam's stored
// counter and, unless this is a dry run, corrects the counter and sends one
// signed webhook per correction. One instance serves every slot; it holds no
// per-job state, so it is thread-safe.
//
// Payload (a JSON object; any other key is rejected, so a misspelt "examIds"
// cannot silently widen a live run to every exam):
//   examIds    [id, ...]  numbers or digit strings; omitted: all active exams.
//                         Given ids are reconciled whether active or not.
//                         "mock_exam_ids" (the seed's name) is accepted too.
//   dryRun     bool       "dry_run" accepted too. The run is a dry run when the
//                         job's dry_run flag OR this says so: a payload cannot
//                         turn a dry-run job live.
//   batchSize  1..10000   exams per job (default from the config, 500).
// A bad payload fails the job permanently, naming the field.
//
// More exams than one batch: the job fans out into child jobs of this kind,
// each with an explicit examIds list of at most batchSize ids, in id (or
// given) order, every exam in exactly one child. Children inherit the
// invocation type and the dry run; their unique keys
// ("reconcile_exam_capacity:<parent>:<n>") keep a retried parent from
// duplicating children that are still live. The parent's result is
//   {"mode", "invocation_type", "fanOut": {"exams", "children", "batchSize"},
//    "message"}
// and has no "summary": the per-exam results are in the children's runs.
//
// One batch: one query reads every exam's stored counter with its count of
// active bookings, and one statement applies all corrections, each only where
// the counter still holds the value that was read; an exam whose counter moved
// in between (a booking landed) keeps the newer value and is reported failed,
// for the next run to reconcile. Then one webhook per correction. The result
// is the seed's "data" object plus its message ("success" is the run's
// outcome):
//   {"summary": {"processed", "successful", "failed", "updated", "unchanged",
//                "totalCorrections"},
//    "mode": "live" | "dry_run", "invocation_type": "cron" | "manual",
//    "results": {"updated": [entry], "unchanged": [entry], "failed": [entry]},
//    "message"}
//   entry: {"examId" (string, as the seed), "examDate", "mockType",
//           "previousCount", "actualCount", "difference", "needsUpdate",
//           "updated"} plus "error" in "failed".
// processed = successful + failed; successful = updated + unchanged;
// totalCorrections is the sum of |difference| over the counters corrected. In
// a dry run "updated" lists the exams that would be corrected (needsUpdate
// true, updated false) and totalCorrections what would be corrected.
//
// Per-exam failures (an unknown id, a lost race, a webhook not delivered
// yet) land in "failed" and the run's errors: a partial success, the other
// exams done. A database error fails the whole job (retryable), having
// changed nothing or having applied every correction of the batch.
//
// Webhook: POST JSON {"type": "exam.capacity.corrected", "examId",
// "examDate", "mockType", "previousCount", "actualCount", "difference",
// "jobId"}, authenticated per the endpoint's AuthStyle. The secret is resolved
// from its reference before any counter changes (so a bad reference fails the
// job with nothing changed), and is never logged or stored.
//
// Delivery is at least once, through the webhook outbox (webhook_outbox.h):
// the corrections, one outbox row per correction (with its webhook id, fixed
// for every attempt, and the secret's reference) and a deliver_webhooks job
// for those rows commit in one transaction. The run then delivers the rows
// itself; whatever it could not deliver - the receiver failed, timed out, or
// the worker died before trying - the deliver_webhooks job retries with
// backoff (first after redelivery_delay). A correction whose webhook is not
// delivered yet is not undone (the counter matches the bookings; restoring a
// value known to be wrong would hide nothing): its entry is in "failed" with
// "updated": true and an error naming the delivery job. The result adds
//   "webhooks": {"delivered", "pending", "deliveryJobId" (null if none)}
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"
#include "worker/handler.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/webhook_outbox.h"

namespace chime::worker::kinds {

inline constexpr std::string_view kReconcileExamCapacityKind = "reconcile_exam_capacity";
inline constexpr int kReconcileMaxBatchSize = 10000;

struct ReconcileExamCapacityConfig {
  ExamTables tables;
  // Unset: corrections are made and reported without a webhook.
  std::optional<Endpoint> webhook;
  // Exams per job when the payload gives no batchSize.
  int default_batch_size = 500;
  // When the deliver_webhooks job for a batch's undelivered webhooks first
  // runs (the batch itself tries first), and its attempts.
  std::chrono::milliseconds redelivery_delay{std::chrono::seconds(30)};
  int redelivery_max_attempts = 20;

  // InvalidArgument naming the field.
  [[nodiscard]] Result<void> Validate() const;
};

// A parsed payload.
struct ReconcileExamCapacityRequest {
  std::optional<std::vector<int64_t>> exam_ids;  // Unset: all active exams. Deduplicated.
  bool dry_run = false;  // The job's flag or the payload's.
  int batch_size = 500;
};

// InvalidArgument naming the field ("examIds[2]: ..."); public so a payload
// can be checked before it is enqueued.
[[nodiscard]] Result<ReconcileExamCapacityRequest> ParseReconcileExamCapacityPayload(
    const nlohmann::json& payload, bool job_dry_run, int default_batch_size);

class ReconcileExamCapacity final : public Handler {
 public:
  // InvalidArgument for a bad config, or a webhook without the client (or,
  // unless its AuthStyle is kNone, without the resolver) to send it.
  [[nodiscard]] static Result<std::unique_ptr<ReconcileExamCapacity>> Create(
      ReconcileExamCapacityConfig config, std::shared_ptr<const http::HttpClient> http,
      std::shared_ptr<const http::SecretResolver> secrets,
      const Clock& clock = SystemClock::Instance());

  std::string_view Kind() const override { return kReconcileExamCapacityKind; }
  HandlerResult Run(JobContext& ctx) override;

 private:
  ReconcileExamCapacity(ReconcileExamCapacityConfig config,
                        std::shared_ptr<const http::HttpClient> http,
                        std::shared_ptr<const http::SecretResolver> secrets, const Clock& clock);

  HandlerResult FanOut(JobContext& ctx, const ReconcileExamCapacityRequest& request,
                       const std::vector<int64_t>& ids) const;
  HandlerResult Reconcile(JobContext& ctx, db::Connection& db,
                          const ReconcileExamCapacityRequest& request,
                          const std::vector<int64_t>& ids) const;

  const ReconcileExamCapacityConfig config_;
  const std::shared_ptr<const http::HttpClient> http_;
  const std::shared_ptr<const http::SecretResolver> secrets_;
  const WebhookTargets targets_;  // capacity_webhook, when set.
  const Clock& clock_;
};

}  // namespace chime::worker::kinds
